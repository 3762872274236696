//! Acceptance test harness, Terratest style: the real terraform binary drives the real provider binary, which
//! talks with the real AWS SDK to the local emulator (default) or to a real AWS account.
//!
//! Real AWS: set `EKSIDENTITY_REAL_AWS=1`, `EKSIDENTITY_CLUSTER_NAME=<an EKS cluster>`, and AWS credentials and
//! region the usual way. Tests whose names start with `emu_` need the emulator (faults, request counts, made-up
//! clusters); run the others with `cargo test --test <name> -- --skip emu_`.

#![allow(dead_code)]

pub mod consistency;
pub mod emulator;
mod http;
pub mod process;
pub mod terraform;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aws_credential_types::Credentials;
use eksidentity::aws::Aws;
use serde_json::Value;

pub use emulator::Emulator;
pub use terraform::Workdir;

pub const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-eksidentity");
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const ADDRESS: &str = "eksidentity_service_account_role";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The terraform binary: `TERRAFORM` when set, else the pinned one from `make tools`.
pub fn terraform_bin() -> PathBuf {
    match std::env::var("TERRAFORM") {
        Ok(t) if !t.is_empty() => PathBuf::from(t),
        _ => {
            let p = repo_root().join(".tools/bin/terraform");
            assert!(p.exists(), "{} is missing: run `make tools` (or set TERRAFORM=)", p.display());
            p
        }
    }
}

/// A plugin directory holding this build of the provider, laid out for `terraform init -plugin-dir`.
///
/// The provider is a symlink to cargo's binary, not a copy: a debug build weighs about 80 MB, and a copy per test
/// binary per run filled the CI machine's disk. Terraform (1.0 and newer) and OpenTofu follow the link. One
/// directory serves every test binary; the link is replaced atomically, so test binaries running at once agree.
fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        remove_copies_left_by_older_harness(&tmp);
        let root = tmp.join("plugins");
        let dir = root.join(format!("registry.terraform.io/eksidentity/eksidentity/{VERSION}/linux_amd64"));
        std::fs::create_dir_all(&dir).expect("plugin dir");
        let dest = dir.join(format!("terraform-provider-eksidentity_v{VERSION}"));
        let staged = dir.join(format!(".link-{}", std::process::id()));
        let _ = std::fs::remove_file(&staged);
        std::os::unix::fs::symlink(PROVIDER_BIN, &staged).expect("link the provider binary");
        std::fs::rename(&staged, &dest).expect("place the provider link");
        root
    })
}

/// Earlier versions of this harness copied the binary into `plugins-<pid>` and never removed it.
fn remove_copies_left_by_older_harness(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("plugins-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A working directory for commands that never reach AWS (init, validate, providers schema): no emulator, and
/// no AWS settings added, so such a test runs the same with or without an AWS account.
pub fn offline_workdir() -> Workdir {
    let env = [("AWS_CONFIG_FILE", "/dev/null"), ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")];
    Workdir::new(
        terraform_bin(),
        plugin_dir().to_path_buf(),
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    )
}

/// Where the tests run: the emulator, or a real account.
pub struct Env {
    pub emulator: Option<Emulator>,
    rt: tokio::runtime::Runtime,
    pub aws: Aws,
    pub region: String,
    pub account_id: String,
    tf_env: Vec<(String, String)>,
    /// Unique per test: keeps names apart when tests share an account.
    pub run_id: String,
}

pub fn real_aws() -> bool {
    std::env::var("EKSIDENTITY_REAL_AWS").is_ok_and(|v| v == "1")
}

impl Env {
    pub fn start() -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let run_id = format!("{:x}", rand_u32());
        if real_aws() {
            let sdk = rt.block_on(aws_config::load_defaults(aws_config::BehaviorVersion::latest()));
            let aws = Aws::from_sdk_config(&sdk);
            let identity = rt.block_on(aws.caller_identity()).expect("AWS credentials for the real-AWS run");
            let region = aws.region().to_string();
            return Env { emulator: None, rt, aws, region, account_id: identity.account, tf_env: Vec::new(), run_id };
        }
        let emu = Emulator::start();
        let creds = Credentials::new(&emu.access_key_id, &emu.secret_access_key, None, None, "emulator");
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(emu.region.clone()))
            .endpoint_url(&emu.endpoint)
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
            .build();
        let aws = Aws::from_sdk_config(&sdk);
        let tf_env = vec![
            ("AWS_ENDPOINT_URL".to_string(), emu.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".to_string(), emu.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY".to_string(), emu.secret_access_key.clone()),
            ("AWS_REGION".to_string(), emu.region.clone()),
            ("AWS_DEFAULT_REGION".to_string(), emu.region.clone()),
            // Never let a developer's own profile leak into a test.
            ("AWS_CONFIG_FILE".to_string(), "/dev/null".to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE".to_string(), "/dev/null".to_string()),
            ("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string()),
        ];
        Env {
            region: emu.region.clone(),
            account_id: emu.account_id.clone(),
            emulator: Some(emu),
            rt,
            aws,
            tf_env,
            run_id,
        }
    }

    /// The emulator; panics in a real-AWS run (name such tests `emu_*`).
    pub fn emu(&self) -> &Emulator {
        self.emulator.as_ref().expect("this test needs the emulator (name it emu_* so real-AWS runs skip it)")
    }

    /// Runs an async AWS call to completion.
    pub fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// A cluster to wire against: a fresh emulator cluster with a local issuer, or the real one.
    pub fn cluster(&self, name: &str) -> String {
        match &self.emulator {
            Some(emu) => {
                emu.create_cluster(name);
                name.to_string()
            }
            None => std::env::var("EKSIDENTITY_CLUSTER_NAME").expect("EKSIDENTITY_CLUSTER_NAME for the real-AWS run"),
        }
    }

    /// The `provider "eksidentity"` block for this environment.
    pub fn provider_block(&self, extra: &str) -> String {
        let bundle = match &self.emulator {
            Some(emu) => format!("  oidc_ca_bundle = \"{}\"\n", emu.ca_bundle.display()),
            None => String::new(),
        };
        format!(
            "terraform {{\n  required_providers {{\n    eksidentity = {{ source = \"eksidentity/eksidentity\" }}\n  }}\n}}\n\n\
             provider \"eksidentity\" {{\n{bundle}{extra}}}\n"
        )
    }

    /// A new terraform working directory with this environment's credentials and endpoint.
    pub fn workdir(&self) -> Workdir {
        Workdir::new(terraform_bin(), plugin_dir().to_path_buf(), self.tf_env.clone())
    }

    /// The trust policy of a role as JSON (decoded from IAM's URL-encoding).
    pub fn trust(&self, role: &str) -> Value {
        let r = self.block(self.aws.get_role(role)).expect("GetRole").unwrap_or_else(|| panic!("no role {role}"));
        eksidentity::policy::decode_iam_document(&r.trust_policy_raw).expect("trust policy JSON")
    }

    pub fn role_exists(&self, role: &str) -> bool {
        self.block(self.aws.get_role(role)).expect("GetRole").is_some()
    }

    pub fn attached(&self, role: &str) -> Vec<String> {
        let mut v = self.block(self.aws.list_attached_policies(role)).expect("ListAttachedRolePolicies");
        v.sort();
        v
    }
}

/// A little randomness without a dependency: time and pid mixed.
fn rand_u32() -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    nanos ^ (std::process::id().rotate_left(16)) ^ (COUNTER.fetch_add(0x9e37_79b9, std::sync::atomic::Ordering::SeqCst))
}

static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
