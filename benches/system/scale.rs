//! Scale through Terraform: N wirings (half irsa, half pod_identity, over 5 clusters) against the emulator with
//! the real terraform binary: apply, a refresh-only plan, destroy. Each phase is one terraform command measured by
//! `procwatch` (the plugin processes' CPU, peak RSS, count) with the emulator's request log cleared before it.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::calls::{self, Phase, Shape};
use crate::harness::{Env, ADDRESS};
use crate::procwatch::{self, CommandRun};

pub const CLUSTERS: usize = 5;
const POLICY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const PLUGIN_EXE: &str = "terraform-provider-eksidentity";

pub struct PhaseRun {
    pub phase: Phase,
    pub run: CommandRun,
    /// `service:Operation` -> calls.
    pub calls: BTreeMap<String, u64>,
    /// Calls answered with an error status (retried or expected "not found"), by `service:Operation HTTP status`.
    pub errors_by_operation: BTreeMap<String, u64>,
    pub lines: Vec<calls::Line>,
}

impl PhaseRun {
    pub fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }
    pub fn errors(&self) -> u64 {
        self.errors_by_operation.values().sum()
    }
    pub fn calls_met(&self) -> bool {
        self.lines.iter().all(calls::Line::met)
    }
}

pub struct Scale {
    pub shape: Shape,
    pub phases: Vec<PhaseRun>,
}

/// The configuration: one `for_each` resource over N wirings. Even indexes are irsa, odd ones pod_identity;
/// clusters go round-robin, so every cluster has both modes.
fn config(env: &Env, n: usize) -> String {
    format!(
        "{provider}
locals {{
  wirings = {{
    for i in range({n}) : format(\"w%04d\", i) => {{
      mode    = i % 2 == 0 ? \"irsa\" : \"pod_identity\"
      cluster = \"bench-${{i % {CLUSTERS}}}\"
      team    = \"team-${{i % 10}}\"
    }}
  }}
}}

resource \"{ADDRESS}\" \"w\" {{
  for_each        = local.wirings
  mode            = each.value.mode
  cluster_name    = each.value.cluster
  namespace       = each.value.team
  service_account = \"app-${{each.key}}\"
  policy_arns     = [\"{POLICY}\"]
  tags            = {{ team = each.value.team }}
}}
",
        provider = env.provider_block("  default_tags = { managed-by = \"bench\" }\n")
    )
}

fn shape(n: usize) -> Shape {
    Shape { wirings: n, pod_identity: n / 2, clusters: CLUSTERS, attachments: 1, inline: 0 }
}

pub fn run(n: usize, scratch: &Path) -> Scale {
    let shape = shape(n);
    eprintln!("bench: scale N={n}: starting the emulator and {CLUSTERS} clusters");
    let env = Env::start();
    let emu = env.emu();
    for c in 0..CLUSTERS {
        env.cluster(&format!("bench-{c}"));
    }
    let wd = env.workdir();
    wd.write(&config(&env, n));
    wd.init();

    let steps: [(Phase, &[&str]); 3] = [
        (Phase::Apply, &["apply", "-no-color", "-input=false", "-auto-approve"]),
        // -detailed-exitcode: 0 means refresh found nothing to change, which the bench requires.
        (Phase::Refresh, &["plan", "-refresh-only", "-no-color", "-input=false", "-detailed-exitcode"]),
        (Phase::Destroy, &["destroy", "-no-color", "-input=false", "-auto-approve"]),
    ];
    let mut phases = Vec::new();
    for (phase, args) in steps {
        eprintln!("bench: scale N={n}: terraform {} ...", args.join(" "));
        emu.clear_requests();
        let mut cmd = wd.command(args);
        // Terraform 1.0 re-executes itself under a panic monitor (panicwrap) unless TF_FORK=0; without that extra
        // process the plugins are children of the terraform we start, which procwatch needs. Plugins are started
        // and driven the same way either way.
        cmd.env("TF_FORK", "0");
        let run = procwatch::run(cmd, scratch, PLUGIN_EXE);
        assert_eq!(
            run.code,
            0,
            "terraform {} exited {} at N={n}:\n{}\n{}",
            args.join(" "),
            run.code,
            tail(&run.stdout),
            tail(&run.stderr)
        );
        let log = emu.admin("GET", "/requests", None);
        let requests = log["requests"].as_array().cloned().unwrap_or_default();
        let mut counts = BTreeMap::new();
        let mut errors_by_operation = BTreeMap::new();
        for r in &requests {
            let op = format!("{}:{}", r["service"].as_str().unwrap_or("?"), r["operation"].as_str().unwrap_or("?"));
            let status = r["status"].as_u64().unwrap_or(0);
            if status >= 400 {
                *errors_by_operation.entry(format!("{op} {status}")).or_insert(0u64) += 1;
            }
            *counts.entry(op).or_insert(0u64) += 1;
        }
        let lines = calls::lines(phase, &shape, run.started, run.wall.as_secs() / 60, &counts);
        eprintln!(
            "bench: scale N={n}: {} took {:.1} s; plugin: {} processes, {:.0} ms CPU, peak {:.1} MiB; {} AWS calls",
            phase.name(),
            run.wall.as_secs_f64(),
            run.started,
            run.plugin_cpu.as_secs_f64() * 1e3,
            run.peak_hwm_kib() as f64 / 1024.0,
            counts.values().sum::<u64>()
        );
        phases.push(PhaseRun { phase, run, calls: counts, errors_by_operation, lines });
    }
    // Addons go DELETING -> gone after the emulator's addon delay: give them a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let left = |o: &Value| ["roles", "oidc_providers", "addons", "associations"].iter().any(|k| o["counts"][k] != 0);
    let mut objects = emu.objects();
    while left(&objects) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
        objects = emu.objects();
    }
    assert!(!left(&objects), "destroy left objects behind at N={n}: {objects}");
    Scale { shape, phases }
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
