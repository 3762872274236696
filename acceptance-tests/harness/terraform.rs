//! A Terraform working directory, Terratest style: write a configuration, run init/plan/apply/import/destroy
//! with the real terraform binary against the real provider binary, and read outputs and state.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

/// What one terraform command did.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub seconds: f64,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == 0
    }
    /// stdout and stderr, for messages.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
    #[track_caller]
    pub fn expect_ok(self) -> Run {
        assert!(self.ok(), "terraform {} failed ({}):\n{}", self.args.join(" "), self.code, self.text());
        self
    }
    #[track_caller]
    pub fn expect_fail(self) -> Run {
        assert!(!self.ok(), "terraform {} succeeded but should fail:\n{}", self.args.join(" "), self.text());
        self
    }
}

pub struct Workdir {
    dir: tempfile::TempDir,
    terraform: PathBuf,
    plugin_dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Workdir {
    pub(super) fn new(terraform: PathBuf, plugin_dir: PathBuf, env: Vec<(String, String)>) -> Workdir {
        let dir = tempfile::Builder::new().prefix("eksidentity-tf-").tempdir().expect("temp dir");
        std::fs::write(dir.path().join(".terraformrc"), "").expect("cli config");
        Workdir { dir, terraform, plugin_dir, env }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes (replaces) main.tf.
    pub fn write(&self, main_tf: &str) {
        std::fs::write(self.dir.path().join("main.tf"), main_tf).expect("write main.tf");
    }

    /// Copies every .tf file of a folder (an example) into the working directory, replacing main.tf.
    pub fn copy_from(&self, folder: &Path) {
        for entry in std::fs::read_dir(folder).expect("example folder") {
            let p = entry.expect("entry").path();
            if p.extension().is_some_and(|e| e == "tf") {
                std::fs::copy(&p, self.dir.path().join(p.file_name().unwrap())).expect("copy example");
            }
        }
    }

    /// Extra environment for the terraform process (and so for the provider).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// The terraform command with this directory's environment, not started yet.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join(".terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_INPUT", "0")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let started = Instant::now();
        let out =
            self.command(args).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", self.terraform.display()));
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    pub fn init(&self) -> Run {
        let plugin_dir = format!("-plugin-dir={}", self.plugin_dir.display());
        self.run(&["init", "-no-color", "-input=false", &plugin_dir]).expect_ok()
    }

    pub fn validate(&self) -> Run {
        self.run(&["validate", "-no-color"])
    }

    pub fn apply(&self) -> Run {
        self.run(&["apply", "-no-color", "-auto-approve", "-input=false"])
    }

    pub fn apply_with(&self, extra: &[&str]) -> Run {
        let mut args = vec!["apply", "-no-color", "-auto-approve", "-input=false"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
    pub fn plan(&self) -> Run {
        self.run(&["plan", "-no-color", "-input=false", "-detailed-exitcode"])
    }

    /// Asserts that a plan shows no changes.
    #[track_caller]
    pub fn assert_no_changes(&self) {
        let r = self.plan();
        assert_eq!(r.code, 0, "expected an empty plan, got exit code {}:\n{}", r.code, r.text());
    }

    /// Asserts that a plan shows changes and returns its text.
    #[track_caller]
    pub fn assert_changes(&self) -> String {
        let r = self.plan();
        assert_eq!(r.code, 2, "expected a plan with changes, got exit code {}:\n{}", r.code, r.text());
        r.stdout
    }

    pub fn destroy(&self) -> Run {
        self.run(&["destroy", "-no-color", "-auto-approve", "-input=false"])
    }

    pub fn import(&self, address: &str, id: &str) -> Run {
        self.run(&["import", "-no-color", "-input=false", address, id])
    }

    pub fn state_rm(&self, address: &str) -> Run {
        self.run(&["state", "rm", address]).expect_ok()
    }

    /// `terraform output -json` as a map of name -> value.
    pub fn outputs(&self) -> Value {
        let r = self.run(&["output", "-json"]).expect_ok();
        let all: Value = serde_json::from_str(&r.stdout).expect("output -json is JSON");
        let mut out = serde_json::Map::new();
        if let Some(m) = all.as_object() {
            for (k, v) in m {
                out.insert(k.clone(), v["value"].clone());
            }
        }
        Value::Object(out)
    }

    /// The attributes of one resource instance from `terraform show -json`.
    pub fn resource(&self, address: &str) -> Value {
        let r = self.run(&["show", "-json"]).expect_ok();
        let state: Value = serde_json::from_str(&r.stdout).expect("show -json is JSON");
        let resources = state["values"]["root_module"]["resources"].as_array().cloned().unwrap_or_default();
        resources
            .into_iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("no {address} in the state"))
    }

    /// Starts terraform in the background (in its own process group, as a shell runs a job), for tests that
    /// signal it or its plugin while it works. Output goes to files read by `Running::wait`.
    pub fn spawn(&self, args: &[&str]) -> Running {
        use std::os::unix::process::CommandExt;
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let out_path = self.dir.path().join(format!(".spawn-{n}.out"));
        let err_path = self.dir.path().join(format!(".spawn-{n}.err"));
        let child = self
            .command(args)
            .process_group(0)
            .stdout(std::fs::File::create(&out_path).expect("stdout file"))
            .stderr(std::fs::File::create(&err_path).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.terraform.display()));
        Running {
            child,
            args: args.iter().map(|s| s.to_string()).collect(),
            out_path,
            err_path,
            started: Instant::now(),
        }
    }

    /// The state Terraform saved (terraform.tfstate as JSON), or Null when there is none yet.
    pub fn saved_state(&self) -> Value {
        match std::fs::read_to_string(self.dir.path().join("terraform.tfstate")) {
            Ok(text) if !text.trim().is_empty() => serde_json::from_str(&text).expect("terraform.tfstate is JSON"),
            _ => Value::Null,
        }
    }

    /// Forgets the state (keeps the configuration and the initialised providers), for a test that starts over
    /// against a reset emulator in the same directory.
    pub fn forget_state(&self) {
        for f in ["terraform.tfstate", "terraform.tfstate.backup"] {
            let _ = std::fs::remove_file(self.dir.path().join(f));
        }
    }

    /// Addresses of every resource instance in the state.
    pub fn state_list(&self) -> Vec<String> {
        let r = self.run(&["state", "list"]);
        r.stdout.lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
    }
}

/// A terraform command running in the background.
pub struct Running {
    child: std::process::Child,
    args: Vec<String>,
    out_path: PathBuf,
    err_path: PathBuf,
    pub started: Instant,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal to terraform's whole process group, as a terminal does on Ctrl-C.
    pub fn signal_group(&self, signal: i32) {
        // SAFETY: kill(2) with a negative pid addresses the process group we created at spawn.
        unsafe {
            libc::kill(-(self.child.id() as i32), signal);
        }
    }

    /// The exit status if terraform has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub fn wait(mut self) -> Run {
        let status = self.child.wait().expect("wait for terraform");
        Run {
            args: std::mem::take(&mut self.args),
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&self.out_path).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.err_path).unwrap_or_default(),
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that panicked mid-way must not leave terraform (and its plugin) running.
        if let Ok(None) = self.child.try_wait() {
            self.signal_group(libc::SIGKILL);
            let _ = self.child.wait();
        }
    }
}
