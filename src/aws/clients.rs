//! AWS SDK clients built from the provider block: aws-config's default credential chain (environment, profiles,
//! SSO, web identity, container and instance metadata), optional profile, shared config files, assumed role,
//! per-service endpoint overrides, and the retry policy.

use std::time::Duration;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

/// The AWS-related settings of the provider block, already validated.
#[derive(Clone, Debug, Default)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub shared_config_files: Vec<String>,
    pub assume_role: Option<AssumeRoleSettings>,
    pub endpoints: Endpoints,
    /// Retries after the first attempt for throttling, 5xx and transient network errors.
    pub max_retries: u32,
}

#[derive(Clone, Debug, Default)]
pub struct AssumeRoleSettings {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Endpoints {
    pub iam: Option<String>,
    pub eks: Option<String>,
    pub sts: Option<String>,
}

pub const DEFAULT_MAX_RETRIES: u32 = 25;

/// The longest one AWS call may take, retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(150);

/// The three clients the provider uses. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Aws {
    pub(crate) iam: aws_sdk_iam::Client,
    pub(crate) eks: aws_sdk_eks::Client,
    pub(crate) sts: aws_sdk_sts::Client,
    region: String,
}

impl Aws {
    /// Builds clients. Loads configuration files and environment; makes no AWS call (credentials are
    /// resolved lazily, on the first request).
    pub async fn new(settings: &AwsSettings) -> Result<Aws, String> {
        let retry = RetryConfig::standard()
            .with_max_attempts(settings.max_retries.saturating_add(1))
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(20));
        // One call, all its retries included, never takes longer than OPERATION_TIMEOUT: an unreachable endpoint
        // (DNS, refused connections) fails in minutes with a clear error instead of retrying for a quarter hour,
        // and throttling still gets dozens of backed-off attempts inside that bound.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .operation_attempt_timeout(Duration::from_secs(60))
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry).timeout_config(timeouts);
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if !settings.shared_config_files.is_empty() {
            let mut files = EnvConfigFiles::builder().include_default_credentials_file(true);
            for f in &settings.shared_config_files {
                files = files.with_file(EnvConfigFileKind::Config, expand_home(f));
            }
            loader = loader.profile_files(files.build());
        }
        let mut sdk = loader.load().await;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            return Err("no AWS region is configured: set `region` in the provider block, or AWS_REGION, or a \
                        region in your AWS profile"
                .into());
        };

        if let Some(ar) = &settings.assume_role {
            let mut sts_base = sdk.clone();
            if let Some(sts) = &settings.endpoints.sts {
                sts_base = sts_base.into_builder().endpoint_url(sts).build();
            }
            let mut builder = AssumeRoleProvider::builder(&ar.role_arn)
                .session_name(ar.session_name.clone().unwrap_or_else(|| "eksidentity".to_string()))
                .configure(&sts_base);
            if let Some(id) = &ar.external_id {
                builder = builder.external_id(id);
            }
            let provider = builder.build().await;
            sdk = sdk.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build();
        }

        // One retry partition per process without a retry quota: the SDK's default token bucket refuses retries
        // after a burst of throttling, which is exactly when a plan of hundreds of wirings needs them. Attempts
        // stay bounded by max_retries and jittered exponential backoff.
        let partition = RetryPartition::custom("eksidentity").token_bucket(TokenBucket::unlimited()).build();

        let iam = {
            let mut b = aws_sdk_iam::config::Builder::from(&sdk)
                .retry_partition(partition.clone())
                .interceptor(super::log::CallLog);
            if let Some(e) = &settings.endpoints.iam {
                b = b.endpoint_url(e);
            }
            aws_sdk_iam::Client::from_conf(b.build())
        };
        let eks = {
            let mut b = aws_sdk_eks::config::Builder::from(&sdk)
                .retry_partition(partition.clone())
                .interceptor(super::log::CallLog);
            if let Some(e) = &settings.endpoints.eks {
                b = b.endpoint_url(e);
            }
            aws_sdk_eks::Client::from_conf(b.build())
        };
        let sts = {
            let mut b =
                aws_sdk_sts::config::Builder::from(&sdk).retry_partition(partition).interceptor(super::log::CallLog);
            if let Some(e) = &settings.endpoints.sts {
                b = b.endpoint_url(e);
            }
            aws_sdk_sts::Client::from_conf(b.build())
        };
        Ok(Aws { iam, eks, sts, region })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Clients from an already-built SDK configuration (used by the acceptance tests and the benchmarks, which
    /// talk to the emulator with explicit credentials and endpoint).
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig) -> Aws {
        Aws {
            iam: aws_sdk_iam::Client::new(sdk),
            eks: aws_sdk_eks::Client::new(sdk),
            sts: aws_sdk_sts::Client::new(sdk),
            region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
        }
    }

    /// The raw SDK clients, for callers outside the provider that need an operation this module does not wrap.
    pub fn sdk(&self) -> (&aws_sdk_iam::Client, &aws_sdk_eks::Client) {
        (&self.iam, &self.eks)
    }
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_string(),
    }
}
