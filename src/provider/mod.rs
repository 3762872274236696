//! The provider: its block, turning that block into AWS clients, and the registry of resources. Implements the
//! protocol layer's `Provider` trait by dispatching to `crate::wiring`.

mod schema;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OnceCell;

use crate::aws::{AssumeRoleSettings, Aws, AwsSettings, Endpoints, DEFAULT_MAX_RETRIES};
use crate::cty::{AttributePath, Value};
use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::Schema;
use crate::tfprotocol::{
    ApplyRequest, ApplyResponse, ConfigureRequest, ImportRequest, ImportResponse, PlanRequest, PlanResponse, Provider,
    ReadRequest, ReadResponse,
};
use crate::thumbprint::ThumbprintFetcher;
use crate::wiring::{self, checks, Context};

pub use schema::provider_schema;

/// How long one OIDC discovery and TLS handshake may take.
const THUMBPRINT_TIMEOUT: Duration = Duration::from_secs(20);

pub struct EksIdentityProvider {
    provider_schema: Schema,
    resources: BTreeMap<String, Schema>,
    context: OnceCell<Context>,
}

/// The provider the binary serves.
pub fn new() -> EksIdentityProvider {
    EksIdentityProvider {
        provider_schema: provider_schema(),
        resources: BTreeMap::from([(wiring::TYPE_NAME.to_string(), wiring::schema::resource_schema())]),
        context: OnceCell::new(),
    }
}

fn unknown_type(type_name: &str) -> Diagnostics {
    Diagnostic::error(
        "Unknown resource type",
        format!("This provider has no resource type \"{type_name}\"; it serves only {}.", wiring::TYPE_NAME),
    )
    .into()
}

/// The provider block, read into plain settings.
struct ProviderConfig {
    aws: AwsSettings,
    default_tags: BTreeMap<String, String>,
    oidc_ca_bundle: Option<String>,
}

fn string_at(v: &Value, name: &str) -> Option<String> {
    v.get(name).and_then(|x| x.as_str()).map(str::to_string)
}

fn read_config(config: &Value) -> Result<ProviderConfig, Diagnostics> {
    if !config.is_wholly_known() {
        let paths: Vec<String> = match config {
            Value::Object(m) => m.iter().filter(|(_, v)| !v.is_wholly_known()).map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        };
        return Err(Diagnostic::error(
            "Provider configuration is not known yet",
            format!(
                "The provider block uses values that are only known after apply ({}). Configure the provider from \
                 values known at plan time (variables, data sources, or resources applied in an earlier run).",
                paths.join(", ")
            ),
        )
        .into());
    }
    let assume_role = config.get("assume_role").filter(|v| !v.is_null()).map(|b| AssumeRoleSettings {
        role_arn: string_at(b, "role_arn").unwrap_or_default(),
        session_name: string_at(b, "session_name"),
        external_id: string_at(b, "external_id"),
    });
    let endpoints = match config.get("endpoints").filter(|v| !v.is_null()) {
        Some(b) => Endpoints { iam: string_at(b, "iam"), eks: string_at(b, "eks"), sts: string_at(b, "sts") },
        None => Endpoints::default(),
    };
    let shared_config_files = match config.get("shared_config_files") {
        Some(Value::List(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    let default_tags = match config.get("default_tags") {
        Some(Value::Map(m)) => m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect(),
        _ => BTreeMap::new(),
    };
    let max_retries = config.get("max_retries").and_then(Value::as_i64).map_or(DEFAULT_MAX_RETRIES, |n| n as u32);
    Ok(ProviderConfig {
        aws: AwsSettings {
            region: string_at(config, "region"),
            profile: string_at(config, "profile"),
            shared_config_files,
            assume_role,
            endpoints,
            max_retries,
        },
        default_tags,
        oidc_ca_bundle: string_at(config, "oidc_ca_bundle"),
    })
}

/// `oidc_ca_bundle` is PEM text or a path to a PEM file.
fn load_ca_bundle(value: &str) -> Result<String, String> {
    if value.contains("-----BEGIN") {
        return Ok(value.to_string());
    }
    std::fs::read_to_string(value)
        .map_err(|e| format!("oidc_ca_bundle is neither PEM text nor a readable file: cannot read \"{value}\": {e}"))
}

#[async_trait]
impl Provider for EksIdentityProvider {
    fn provider_schema(&self) -> &Schema {
        &self.provider_schema
    }

    fn resource_schemas(&self) -> &BTreeMap<String, Schema> {
        &self.resources
    }

    async fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        let mut out = Diagnostics::new();
        if let Some(tags) = config.get("default_tags").and_then(|v| match v {
            Value::Map(m) => Some(m),
            _ => None,
        }) {
            for (k, v) in tags {
                let path = AttributePath::attr("default_tags").push_key(k);
                if let Err(reason) = checks::tag_key(k) {
                    out.push(Diagnostic::attribute_error(path.clone(), "Invalid tag key", reason));
                }
                if let Some(Err(reason)) = v.as_str().map(checks::tag_value) {
                    out.push(Diagnostic::attribute_error(path, "Invalid tag value", reason));
                }
            }
        }
        if let Some(bundle) = config.get("oidc_ca_bundle").and_then(Value::as_str) {
            if let Err(reason) = load_ca_bundle(bundle).and_then(|pem| {
                ThumbprintFetcher::new(Some(&pem), THUMBPRINT_TIMEOUT).map(|_| ()).map_err(|e| e.to_string())
            }) {
                out.push(Diagnostic::attribute_error(
                    AttributePath::attr("oidc_ca_bundle"),
                    "Invalid CA bundle",
                    reason,
                ));
            }
        }
        out
    }

    async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
        let cfg = match read_config(&req.config) {
            Ok(c) => c,
            Err(d) => return d,
        };
        let bundle = match cfg.oidc_ca_bundle.as_deref().map(load_ca_bundle).transpose() {
            Ok(b) => b,
            Err(reason) => {
                return Diagnostic::attribute_error(AttributePath::attr("oidc_ca_bundle"), "Invalid CA bundle", reason)
                    .into()
            }
        };
        let fetcher = match ThumbprintFetcher::new(bundle.as_deref(), THUMBPRINT_TIMEOUT) {
            Ok(f) => f,
            Err(e) => {
                return Diagnostic::attribute_error(
                    AttributePath::attr("oidc_ca_bundle"),
                    "Invalid CA bundle",
                    e.to_string(),
                )
                .into()
            }
        };
        let aws = match Aws::new(&cfg.aws).await {
            Ok(a) => a,
            Err(reason) => return Diagnostic::error("Cannot configure AWS", reason).into(),
        };
        let ctx = Context::new(aws, cfg.default_tags, fetcher);
        if self.context.set(ctx).is_err() {
            return Diagnostic::warning("Provider configured twice", "The second configuration was ignored.").into();
        }
        Diagnostics::new()
    }

    async fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        if type_name != wiring::TYPE_NAME {
            return unknown_type(type_name);
        }
        wiring::validate_config(config)
    }

    async fn read_resource(&self, req: ReadRequest) -> ReadResponse {
        match self.ctx(&req.type_name) {
            Ok(ctx) => wiring::read_state(ctx, req).await,
            Err(d) => ReadResponse { new_state: req.current_state, private: req.private, diagnostics: d },
        }
    }

    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse {
        match self.ctx(&req.type_name) {
            Ok(ctx) => wiring::plan_change(ctx, req).await,
            Err(d) => PlanResponse { diagnostics: d, ..PlanResponse::default() },
        }
    }

    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse {
        match self.ctx(&req.type_name) {
            Ok(ctx) => wiring::apply_change(ctx, req).await,
            Err(d) => ApplyResponse { new_state: req.prior_state, diagnostics: d, ..ApplyResponse::default() },
        }
    }

    async fn import_resource_state(&self, req: ImportRequest) -> ImportResponse {
        match self.ctx(&req.type_name) {
            Ok(ctx) => wiring::import_state(ctx, &req.id).await,
            Err(d) => ImportResponse { diagnostics: d, ..ImportResponse::default() },
        }
    }

    async fn stop(&self) {
        if let Some(ctx) = self.context.get() {
            ctx.stop();
        }
    }
}

impl EksIdentityProvider {
    fn ctx(&self, type_name: &str) -> Result<&Context, Diagnostics> {
        if type_name != wiring::TYPE_NAME {
            return Err(unknown_type(type_name));
        }
        self.context
            .get()
            .ok_or_else(|| Diagnostic::provider_bug("a resource operation arrived before ConfigureProvider").into())
    }
}
