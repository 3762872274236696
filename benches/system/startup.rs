//! Start-up side by side: our release binary and a Go provider built on terraform-plugin-framework, each started
//! as Terraform starts a plugin (tests/common: environment, handshake line, AutoMTLS with a P-521 client
//! certificate), asked for its schema, measured, and shut down through go-plugin's controller. Rounds alternate
//! A B A B so that machine noise falls on both alike.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::goplugin::{grpc_controller_client::GrpcControllerClient, Empty};
use crate::common::tfplugin6 as tf;
use crate::common::{provider_client, ClientIdentity, Launch};
use crate::stats::Summary;

/// One start of one provider.
#[derive(Clone, Debug)]
pub struct Sample {
    pub handshake: Duration,
    pub schema: Duration,
    /// VmHWM: peak resident set, file-backed pages (the binary's code and data) included.
    pub hwm_kib: u64,
    /// RssAnon at the same moment: memory private to the process.
    pub anon_kib: u64,
}

#[derive(Debug)]
pub struct Subject {
    pub label: String,
    pub path: PathBuf,
    pub size_bytes: u64,
    pub protocol: u32,
    pub schema_bytes: usize,
    pub resources: usize,
    pub samples: Vec<Sample>,
}

impl Subject {
    fn new(label: &str, path: &Path) -> Subject {
        let size_bytes = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).len();
        Subject {
            label: label.to_string(),
            path: path.to_path_buf(),
            size_bytes,
            protocol: 0,
            schema_bytes: 0,
            resources: 0,
            samples: Vec::new(),
        }
    }
    pub fn handshake(&self) -> Summary {
        Summary::of(self.samples.iter().map(|s| s.handshake.as_secs_f64() * 1e3))
    }
    pub fn schema(&self) -> Summary {
        Summary::of(self.samples.iter().map(|s| s.schema.as_secs_f64() * 1e3))
    }
    pub fn hwm(&self) -> Summary {
        Summary::of(self.samples.iter().map(|s| s.hwm_kib as f64 / 1024.0))
    }
    pub fn anon(&self) -> Summary {
        Summary::of(self.samples.iter().map(|s| s.anon_kib as f64 / 1024.0))
    }
}

pub struct Startup {
    pub ours: Subject,
    pub go: Subject,
    pub rounds: usize,
    /// Spawn -> first line of a process that only prints a handshake-shaped line (`/bin/echo`), in ms: what this
    /// host pays for starting any process, the floor under both plugins' handshake times.
    pub floor: Vec<f64>,
}

impl Startup {
    pub fn floor(&self) -> Summary {
        Summary::of(self.floor.iter().copied())
    }
}

/// The floor: the same launch (environment, pipes, reader threads) of `/bin/echo` printing a line shaped like a
/// handshake, so the host's cost of starting a process is measured the way the plugins' are.
fn floor_once(identity: &ClientIdentity) -> f64 {
    let t0 = Instant::now();
    let _echo = Launch::terraform_like(identity)
        .program(Path::new("/bin/echo"))
        .arg("1|6|unix|/nonexistent/floor.sock|grpc|")
        .start()
        .unwrap_or_else(|e| panic!("/bin/echo did not start: {e}"));
    t0.elapsed().as_secs_f64() * 1e3
}

/// A `/proc/<pid>/status` field in KiB (0 when absent).
fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0)
}

/// Starts the binary, waits for the handshake line, asks for the schema, reads the peak RSS, shuts it down.
fn one(rt: &tokio::runtime::Runtime, identity: &ClientIdentity, subject: &mut Subject) -> Sample {
    let t0 = Instant::now();
    let mut plugin = Launch::terraform_like(identity)
        .program(&subject.path)
        .start()
        .unwrap_or_else(|e| panic!("{} did not start: {e}", subject.label));
    let handshake = t0.elapsed();
    let (schema, answer) = rt.block_on(async {
        let channel = plugin.connect(Some(identity)).await.unwrap_or_else(|e| panic!("{}: {e}", subject.label));
        let answer = provider_client(channel.clone())
            .get_provider_schema(tf::get_provider_schema::Request {})
            .await
            .unwrap_or_else(|e| panic!("{}: GetProviderSchema: {e}", subject.label))
            .into_inner();
        let schema = t0.elapsed();
        (schema, (answer, channel))
    });
    let hwm = status_kib(plugin.pid(), "VmHWM:");
    let anon = status_kib(plugin.pid(), "RssAnon:");
    let (answer, channel) = answer;
    let errors = answer.diagnostics.iter().filter(|d| d.severity == tf::diagnostic::Severity::Error as i32).count();
    assert_eq!(errors, 0, "{}: GetProviderSchema answered errors: {:?}", subject.label, answer.diagnostics);
    subject.protocol = plugin.handshake.protocol_version;
    subject.resources = answer.resource_schemas.len();
    subject.schema_bytes = prost::Message::encoded_len(&answer);
    // As Terraform ends a plugin: the controller's Shutdown, then wait for the exit.
    rt.block_on(async {
        let _ = GrpcControllerClient::new(channel).shutdown(Empty {}).await;
    });
    if plugin.wait_exit(Duration::from_secs(5)).is_none() {
        eprintln!("bench: {} did not exit within 5 s of Shutdown; it is killed", subject.label);
    }
    drop(plugin);
    Sample { handshake, schema, hwm_kib: hwm, anon_kib: anon }
}

pub fn run(ours: &Path, go: &Path, rounds: usize) -> Startup {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let identity = ClientIdentity::generate();
    let mut a = Subject::new("eksidentity (Rust)", ours);
    let mut b = Subject::new("workato (Go, plugin-framework)", go);
    // One start each first, not counted: loads both binaries into the page cache.
    one(&rt, &identity, &mut a);
    one(&rt, &identity, &mut b);
    floor_once(&identity);
    let mut floor = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let sa = one(&rt, &identity, &mut a);
        let sb = one(&rt, &identity, &mut b);
        eprintln!(
            "bench: start-up round {}/{rounds}: ours {:.1} ms / {:.1} ms / {:.1} MiB, go {:.1} ms / {:.1} ms / {:.1} MiB",
            round + 1,
            sa.handshake.as_secs_f64() * 1e3,
            sa.schema.as_secs_f64() * 1e3,
            sa.hwm_kib as f64 / 1024.0,
            sb.handshake.as_secs_f64() * 1e3,
            sb.schema.as_secs_f64() * 1e3,
            sb.hwm_kib as f64 / 1024.0,
        );
        a.samples.push(sa);
        b.samples.push(sb);
        floor.push(floor_once(&identity));
    }
    assert_eq!(b.protocol, 6, "the Go provider speaks protocol {}: this bench's client speaks tfplugin6", b.protocol);
    Startup { ours: a, go: b, rounds, floor }
}
