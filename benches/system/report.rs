//! The report: targets first (met or missed), then the figures behind them, then how they were measured.
//! Plain markdown; the same text is printed and written to bench/results.md.

use std::fmt::Write;
use std::time::Duration;

use crate::calls::{Minimum, Phase};
use crate::micro_results::Micro;
use crate::scale::{PhaseRun, Scale};
use crate::startup::Startup;

/// 50 MB in MiB (VmHWM is reported in KiB).
const RSS_TARGET_MIB: f64 = 50e6 / 1048576.0;
const CPU_TARGET_MS: f64 = 2.0;

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!("{cpus} CPUs ({model}), Linux {kernel}, load average at the end {}", load.join(" "))
}

fn terraform_version() -> String {
    std::process::Command::new(crate::harness::terraform_bin())
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "terraform (version unknown)".into())
}

fn phase(s: &Scale, p: Phase) -> Option<&PhaseRun> {
    s.phases.iter().find(|r| r.phase == p)
}

pub fn render(startup: Option<&Startup>, scales: &[Scale], micro: &[Micro], took: Duration) -> String {
    let mut o = String::new();
    let now = time::OffsetDateTime::now_utc();
    let date = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let _ = writeln!(o, "# eksidentity benchmarks\n");
    let _ = writeln!(
        o,
        "Written by `make bench` (benches/system, benches/micro.rs) on {date} in {:.0} s. Machine: {}. {}.\n",
        took.as_secs_f64(),
        machine(),
        terraform_version()
    );
    targets(&mut o, startup, scales);
    if let Some(s) = startup {
        startup_section(&mut o, s);
    }
    if !scales.is_empty() {
        scale_section(&mut o, scales);
        growth_section(&mut o, scales);
    }
    micro_section(&mut o, micro);
    method(&mut o, startup);
    o
}

fn targets(o: &mut String, startup: Option<&Startup>, scales: &[Scale]) {
    let _ = writeln!(o, "## Targets\n");
    let _ = writeln!(o, "| target | goal | measured | verdict |\n|---|---|---|---|");
    if let Some(s) = startup {
        let hs = s.go.handshake().median / s.ours.handshake().median;
        let sc = s.go.schema().median / s.ours.schema().median;
        let rss = s.go.hwm().median / s.ours.hwm().median;
        let _ = writeln!(
            o,
            "| start-up: handshake line vs Go | >= 10x faster | {hs:.1}x faster | {} |",
            verdict(hs >= 10.0)
        );
        let _ = writeln!(
            o,
            "| start-up: first GetProviderSchema answer vs Go | >= 10x faster | {sc:.1}x faster | {} |",
            verdict(sc >= 10.0)
        );
        let _ = writeln!(o, "| start-up: peak RSS vs Go | >= 5x lower | {rss:.1}x lower | {} |", verdict(rss >= 5.0));
    }
    let floor_note = startup.map(|s| {
        let (floor, ours, go) = (s.floor().median, s.ours.handshake().median, s.go.handshake().median);
        format!(
            "\nStart-up floor: on this host and harness a process that only prints a handshake-shaped line \
             (`/bin/echo`) is read {floor:.1} ms after spawn, so no plugin can show more than {:.1}x against the Go \
             provider's {go:.1} ms. Above that floor ours spends {:.1} ms and the Go provider {:.1} ms ({:.1}x).\n",
            go / floor,
            ours - floor,
            go - floor,
            (go - floor) / (ours - floor).max(f64::EPSILON)
        )
    });
    if let Some(big) = scales.iter().max_by_key(|s| s.shape.wirings) {
        let n = big.shape.wirings;
        let peak = big.phases.iter().map(|p| p.run.peak_hwm_kib()).max().unwrap_or(0);
        let _ = writeln!(
            o,
            "| N={n}: plugin peak RSS (any process, any phase) | < 50 MB ({RSS_TARGET_MIB:.1} MiB) | {:.1} MiB | {} |",
            mib(peak),
            verdict(mib(peak) < RSS_TARGET_MIB)
        );
        for p in &big.phases {
            let per = ms(p.run.plugin_cpu) / n as f64;
            let _ = writeln!(
                o,
                "| N={n}: plugin CPU per wiring, {} | < {CPU_TARGET_MS} ms | {per:.2} ms | {} |",
                p.phase.name(),
                verdict(per < CPU_TARGET_MS)
            );
        }
        for p in &big.phases {
            let extra: Vec<String> = p
                .lines
                .iter()
                .filter(|l| !l.met())
                .map(|l| match &l.minimum {
                    Some(Minimum::Exact(m)) => format!("{} {} (minimum {m})", l.operation, l.calls),
                    Some(Minimum::AtMost(m)) => format!("{} {} (at most {m})", l.operation, l.calls),
                    None => format!("{} {} (not needed)", l.operation, l.calls),
                })
                .collect();
            let measured = if extra.is_empty() {
                format!("{:.2} per wiring, at the minimum", p.total_calls() as f64 / n as f64)
            } else {
                format!("{:.2} per wiring; over: {}", p.total_calls() as f64 / n as f64, extra.join(", "))
            };
            let _ = writeln!(
                o,
                "| N={n}: AWS calls per wiring, {} | the minimum | {measured} | {} |",
                p.phase.name(),
                verdict(p.calls_met())
            );
        }
    }
    if let Some(note) = floor_note {
        let _ = writeln!(o, "{note}");
    }
    let _ = writeln!(o);
}

fn startup_section(o: &mut String, s: &Startup) {
    let _ = writeln!(
        o,
        "## 1. Start-up side by side\n\n{} rounds, each starting both binaries once (ours first), after one uncounted \
         start of each. Figures: median (min-max).\n",
        s.rounds
    );
    let (a, b) = (&s.ours, &s.go);
    let _ = writeln!(o, "| | {} | {} | Go / ours |\n|---|---|---|---|", a.label, b.label);
    let row = |o: &mut String, what: &str, x: crate::stats::Summary, y: crate::stats::Summary, d: usize| {
        let _ = writeln!(o, "| {what} | {} | {} | {:.1}x |", x.show(d), y.show(d), y.median / x.median);
    };
    row(o, "handshake line (ms)", a.handshake(), b.handshake(), 1);
    let floor = s.floor();
    let _ = writeln!(
        o,
        "| floor: `/bin/echo` printing a handshake-shaped line (ms) | {} | {} | |",
        floor.show(1),
        floor.show(1)
    );
    row(o, "first GetProviderSchema answer (ms)", a.schema(), b.schema(), 1);
    row(o, "peak RSS after it, VmHWM (MiB)", a.hwm(), b.hwm(), 1);
    row(o, "private memory at that moment, RssAnon (MiB)", a.anon(), b.anon(), 1);
    let _ = writeln!(
        o,
        "| binary size (MiB) | {:.1} | {:.1} | {:.1}x |",
        a.size_bytes as f64 / 1048576.0,
        b.size_bytes as f64 / 1048576.0,
        b.size_bytes as f64 / a.size_bytes as f64
    );
    let _ = writeln!(o, "| protocol | {} | {} | |", a.protocol, b.protocol);
    let _ = writeln!(
        o,
        "| schema answer: resources, bytes | {}, {} | {}, {} | |\n",
        a.resources, a.schema_bytes, b.resources, b.schema_bytes
    );
}

fn scale_section(o: &mut String, scales: &[Scale]) {
    let _ = writeln!(
        o,
        "## 2. Scale through Terraform\n\nN wirings (half irsa, half pod_identity, over {} clusters, one managed \
         policy each) against the emulator; Terraform's default -parallelism (10). CPU and RSS are the plugin \
         processes' only (see Method).\n",
        crate::scale::CLUSTERS
    );
    for s in scales {
        let n = s.shape.wirings;
        let _ = writeln!(o, "### N = {n}\n");
        let _ = writeln!(
            o,
            "| phase | wall (s) | plugin processes | plugin CPU (ms) | CPU per wiring (ms) | plugin peak RSS (MiB) | \
             AWS calls | per wiring | error answers | calls at minimum |\n|---|---|---|---|---|---|---|---|---|---|"
        );
        for p in &s.phases {
            let _ = writeln!(
                o,
                "| {} | {:.1} | {} | {:.0} | {:.2} | {:.1} | {} | {:.2} | {} | {} |",
                p.phase.name(),
                p.run.wall.as_secs_f64(),
                p.run.started,
                ms(p.run.plugin_cpu),
                ms(p.run.plugin_cpu) / n as f64,
                mib(p.run.peak_hwm_kib()),
                p.total_calls(),
                p.total_calls() as f64 / n as f64,
                p.errors(),
                verdict(p.calls_met())
            );
        }
        let _ = writeln!(o);
        for p in &s.phases {
            let _ = writeln!(o, "AWS calls, {} (N = {n}, {} plugin processes):\n", p.phase.name(), p.run.started);
            let _ = writeln!(o, "| operation | calls | per wiring | minimum | |\n|---|---|---|---|---|");
            for l in &p.lines {
                let min = match &l.minimum {
                    Some(Minimum::Exact(m)) => format!("{m} ({:.2} per wiring)", *m as f64 / n as f64),
                    Some(Minimum::AtMost(m)) => format!("shared: at most {m}"),
                    None => "not needed".to_string(),
                };
                let _ = writeln!(
                    o,
                    "| {} | {} | {:.2} | {min} | {} |",
                    l.operation,
                    l.calls,
                    l.calls as f64 / n as f64,
                    verdict(l.met())
                );
            }
            if !p.errors_by_operation.is_empty() {
                let list: Vec<String> = p.errors_by_operation.iter().map(|(op, k)| format!("{op} x{k}")).collect();
                let _ = writeln!(o, "\nError answers (operation, HTTP status, count): {}.", list.join(", "));
            }
            let procs: Vec<String> = p
                .run
                .processes
                .iter()
                .map(|x| {
                    format!(
                        "{:.0}-{:.0} ms: {:.0} ms CPU, {:.1} MiB",
                        ms(x.first_seen),
                        ms(x.last_seen),
                        ms(x.cpu),
                        mib(x.hwm_kib)
                    )
                })
                .collect();
            let _ = writeln!(
                o,
                "\nPlugin processes ({} started, {} sampled; alive from-to since the command started): {}. \
                 Terraform's own CPU: {:.0} ms.\n",
                p.run.started,
                p.run.processes.len(),
                procs.join("; "),
                ms(p.run.terraform_cpu)
            );
        }
    }
}

fn growth_section(o: &mut String, scales: &[Scale]) {
    if scales.len() < 2 {
        return;
    }
    let (a, b) = (&scales[0], &scales[scales.len() - 1]);
    let (na, nb) = (a.shape.wirings, b.shape.wirings);
    let _ = writeln!(
        o,
        "## 3. Growth: N = {na} -> N = {nb}\n\nPer wiring figures at both sizes; a ratio near 1.0 means the cost per \
         wiring stays flat.\n"
    );
    let _ = writeln!(o, "| phase | figure | N = {na} | N = {nb} | ratio |\n|---|---|---|---|---|");
    for p in [Phase::Apply, Phase::Refresh, Phase::Destroy] {
        let (Some(x), Some(y)) = (phase(a, p), phase(b, p)) else { continue };
        let rows: [(&str, f64, f64, usize); 5] = [
            ("wall per wiring (ms)", ms(x.run.wall) / na as f64, ms(y.run.wall) / nb as f64, 1),
            ("plugin CPU per wiring (ms)", ms(x.run.plugin_cpu) / na as f64, ms(y.run.plugin_cpu) / nb as f64, 2),
            ("AWS calls per wiring", x.total_calls() as f64 / na as f64, y.total_calls() as f64 / nb as f64, 2),
            ("plugin peak RSS (MiB)", mib(x.run.peak_hwm_kib()), mib(y.run.peak_hwm_kib()), 1),
            ("plugin processes", x.run.started as f64, y.run.started as f64, 0),
        ];
        for (what, va, vb, d) in rows {
            let ratio = if va > 0.0 { format!("{:.2}", vb / va) } else { "-".into() };
            let _ = writeln!(o, "| {} | {what} | {va:.d$} | {vb:.d$} | {ratio} |", p.name(), d = d);
        }
    }
    let _ = writeln!(o);
}

fn micro_section(o: &mut String, micro: &[Micro]) {
    let _ = writeln!(o, "## 4. Micro benchmarks (criterion, benches/micro.rs)\n");
    if micro.is_empty() {
        let _ = writeln!(o, "No criterion results found (run `cargo bench --bench micro` first; bench/run.sh does).\n");
        return;
    }
    let _ = writeln!(o, "| benchmark | median | 95% interval of the median |\n|---|---|---|");
    for m in micro {
        let _ =
            writeln!(o, "| {} | {:.2} µs | {:.2}-{:.2} µs |", m.id, m.median_ns / 1e3, m.low_ns / 1e3, m.high_ns / 1e3);
    }
    let _ = writeln!(
        o,
        "\ncty: a `both`-mode state with three managed and two inline policies, tags, OIDC provider, association and \
         addon. policy: `equivalent` between the trust document we write and IAM's form of it (reordered, pretty \
         printed, percent-encoded), the same for an inline policy, an identical pair, and a pair that differs.\n"
    );
}

fn method(o: &mut String, startup: Option<&Startup>) {
    let _ = writeln!(o, "## Method\n");
    if let Some(s) = startup {
        let _ = writeln!(
            o,
            "- Start-up: tests/common's go-plugin host starts each binary with Terraform's environment (magic cookie, \
             PLUGIN_PROTOCOL_VERSIONS=5,6, a P-521 client certificate), times spawn -> handshake line on stdout, \
             connects over the announced socket with AutoMTLS and times spawn -> GetProviderSchema answer; then \
             reads VmHWM from /proc/<pid>/status and ends the plugin with go-plugin's Shutdown, as Terraform does. \
             The Go provider is `{}` (terraform-provider-workato 0.16.0 from PyPI `workato-terraform-provider`, \
             built on terraform-plugin-framework; it speaks protocol {} and needs no configuration for its schema).",
            s.go.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
            s.go.protocol
        );
    }
    let _ = writeln!(
        o,
        "- Plugin CPU (exact, 10 ms resolution per command): the bench waits for terraform with \
         waitid(WEXITED|WNOWAIT), leaving it a zombie, and reads cutime+cstime from /proc/<terraform>/stat: the \
         kernel added each plugin process's user+system time there when terraform reaped it, and terraform starts no \
         other processes in these runs. Terraform's own CPU is not included.\n\
         - Plugin processes (exact): terraform runs with a TMPDIR of its own, which the plugins inherit; each plugin \
         process creates one socket directory there at start, counted with inotify. Terraform starts a new plugin \
         process per command and per graph walk.\n\
         - Plugin peak RSS: VmHWM (peak resident set) of each plugin process, sampled every 10 ms and again when its \
         socket directory is removed at exit; VmHWM never decreases, so the error is memory first touched in the \
         last milliseconds of exiting (none is expected there). The per-process CPU in the process lists comes from \
         the same samples (a lower bound; the exact total is above).\n\
         - AWS calls: the emulator's request log (every request, with its status), cleared before each phase. \
         `minimum` is per operation: per-wiring operations must equal the fewest calls the job needs (create: \
         CreateRole, AttachRolePolicy, CreatePodIdentityAssociation; refresh: GetRole, ListAttachedRolePolicies, \
         ListRolePolicies, DescribePodIdentityAssociation; destroy: Terraform's refresh plus \
         DeletePodIdentityAssociation, DetachRolePolicy, DeleteRole); shared lookups (GetCallerIdentity, \
         DescribeCluster, GetOpenIDConnectProvider, DescribeAddon) may happen at most once per cluster per plugin \
         process, and creating or deleting a shared object at most once per cluster; after CreateAddon one more \
         DescribeAddon per cluster is allowed (the addon is CREATING). The in-use checks before releasing a shared \
         object (ListRoles, ListPodIdentityAssociations) may run twice per cluster per process (learn the users, \
         then confirm none is left before deleting), plus once per cluster per minute the phase lasts (the provider \
         re-checks what it knows of other users after 60 s). The thumbprint is fetched from the \
         issuer over TLS, not from AWS, so it is not in the log.\n\
         - Every phase must succeed, the refresh-only plan must report no changes (exit 0), and destroy must leave \
         no role, OIDC provider, addon or association behind; otherwise the bench fails instead of printing figures.\n\
         - Wall times include Terraform's own work and the emulator (moto, Python, one process on the same machine), \
         so they say more about the emulator than about the provider; CPU, RSS and call counts are the provider's."
    );
}
