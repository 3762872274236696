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
