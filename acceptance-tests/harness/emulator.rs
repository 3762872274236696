//! The local AWS emulator as a child process: started on a free port, stopped on drop, steered through its admin
//! API (see acceptance-tests/README.md).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::http;
use super::repo_root;

pub struct Emulator {
    child: Child,
    dir: tempfile::TempDir,
    pub endpoint: String,
    pub admin_url: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
    pub ca_bundle: PathBuf,
}

impl Emulator {
    pub fn start() -> Emulator {
        let root = repo_root();
        let python = root.join(".tools/venv/bin/python");
        assert!(python.exists(), "{} is missing: run `make tools` first", python.display());
        let dir = tempfile::tempdir().expect("temp dir");
        let ready = dir.path().join("ready.json");
        let log = std::fs::File::create(dir.path().join("emulator.log")).expect("log file");
        let mut child = Command::new(&python)
            .arg(root.join("acceptance-tests/emulator/run.py"))
            .args(["--port", "0", "--ready-file"])
            .arg(&ready)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the emulator");
        let started = Instant::now();
        let info: Value = loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                if let Ok(v) = serde_json::from_str(&text) {
                    break v;
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the emulator exited ({status}) before it was ready; its log:\n{}",
                    std::fs::read_to_string(dir.path().join("emulator.log")).unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the emulator did not become ready within 60 s; its log:\n{}",
                std::fs::read_to_string(dir.path().join("emulator.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let s = |k: &str| info[k].as_str().unwrap_or_else(|| panic!("ready file lacks {k}: {info}")).to_string();
        Emulator {
            endpoint: s("endpoint"),
            admin_url: s("admin_url"),
            region: s("region"),
            access_key_id: s("access_key_id"),
            secret_access_key: s("secret_access_key"),
            account_id: s("account_id"),
            ca_bundle: PathBuf::from(s("ca_bundle")),
            child,
            dir,
        }
    }

    pub fn log_path(&self) -> &Path {
        self.dir.path()
    }

    /// An admin call that must succeed; returns its JSON answer.
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = http::request(&self.admin_url, method, path, body.as_ref())
            .unwrap_or_else(|e| panic!("admin {method} {path}: {e}"));
        assert!(status < 300, "admin {method} {path} answered {status}: {v}");
        v
    }

    /// Creates an ACTIVE cluster with a local OIDC issuer; returns its `oidc` facts.
    pub fn create_cluster(&self, name: &str) -> Value {
        let v = self.admin("POST", "/clusters", Some(json!({ "name": name })));
        v.get("oidc").cloned().unwrap_or_else(|| self.admin("GET", &format!("/clusters/{name}/oidc"), None))
    }

    pub fn oidc(&self, cluster: &str) -> Value {
        self.admin("GET", &format!("/clusters/{cluster}/oidc"), None)
    }

    /// Every AWS request since the last reset: `[{service, operation, status, ...}]`.
    pub fn requests(&self) -> Vec<Value> {
        self.admin("GET", "/requests", None)["requests"].as_array().cloned().unwrap_or_default()
    }

    /// `service:Operation` -> count, for the requests since the last reset.
    pub fn request_counts(&self) -> std::collections::BTreeMap<String, u64> {
        let v = self.admin("GET", "/requests", None);
        v["by_operation"]
            .as_object()
            .map(|m| m.iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0))).collect())
            .unwrap_or_default()
    }

    pub fn clear_requests(&self) {
        self.admin("DELETE", "/requests", None);
    }

    pub fn add_fault(&self, fault: Value) -> Value {
        self.admin("POST", "/faults", Some(fault))
    }

    pub fn clear_faults(&self) {
        self.admin("DELETE", "/faults", None);
    }

    /// The fault rules with their `seen` and `injected` counts, and the total injected.
    pub fn faults(&self) -> Value {
        self.admin("GET", "/faults", None)
    }

    /// Wipes every AWS object, rule, hold and the log (a fresh emulator; the CA and listeners stay).
    pub fn reset(&self) {
        self.admin("POST", "/reset", None);
    }

    /// Holds the answer to a call after AWS has acted on it (see acceptance-tests/README.md, "Holds").
    pub fn add_hold(&self, hold: Value) -> String {
        let v = self.admin("POST", "/holds", Some(hold));
        v["id"].as_str().expect("hold id").to_string()
    }

    pub fn hold(&self, id: &str) -> Value {
        self.admin("GET", &format!("/holds/{id}"), None)
    }

    /// Lets a held answer go (to a client that may be gone) and removes the hold.
    pub fn release_hold(&self, id: &str) {
        self.admin("DELETE", &format!("/holds/{id}"), None);
    }

    /// What exists: roles, OIDC providers, addons, associations.
    pub fn objects(&self) -> Value {
        self.admin("GET", "/objects", None)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // SIGTERM lets it remove its files; kill if it lingers.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One AWS call of a request log: the `nth` call of its operation counted from the start of the log (which is how
/// fault rules and holds count, from when they are added).
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub nth: u64,
}

impl Call {
    /// Whether the operation changes something in AWS (as opposed to reading).
    pub fn changes_aws(&self) -> bool {
        ["Create", "Put", "Attach", "Detach", "Tag", "Untag", "Update", "Add", "Remove", "Delete"]
            .iter()
            .any(|p| self.operation.starts_with(p))
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} #{}", self.service, self.operation, self.nth)
    }
}

/// The calls of a request log in order, each with its occurrence number.
pub fn calls_of(log: &[Value]) -> Vec<Call> {
    let mut seen: std::collections::BTreeMap<(String, String), u64> = Default::default();
    log.iter()
        .map(|r| {
            let service = r["service"].as_str().unwrap_or_default().to_string();
            let operation = r["operation"].as_str().unwrap_or_default().to_string();
            let n = seen.entry((service.clone(), operation.clone())).or_default();
            *n += 1;
            Call { service, operation, nth: *n }
        })
        .collect()
}
