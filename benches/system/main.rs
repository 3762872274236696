//! `make bench`'s system benchmarks (bench/run.sh drives it): plugin start-up side by side with a Go provider,
//! and cost per wiring at scale through the real terraform against the emulator. Reads the criterion results of
//! `benches/micro.rs` when present, prints one report and writes it to bench/results.md.
//!
//! Arguments (after `cargo bench --bench system --`):
//!   --go PATH        the Go provider binary to compare with (bench/run.sh downloads it); required for start-up
//!   --ours PATH      start-up of another build of ours (default: this build's release binary)
//!   --rounds N       start-up rounds, each starting both binaries once (default 20)
//!   --n LIST         wiring counts for the scale runs, comma-separated (default 100,500)
//!   --only WHAT      `startup` or `scale`
//!   --out PATH       the report (default bench/results.md); the raw figures go beside it in bench/work/

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../acceptance-tests/harness/mod.rs"]
mod harness;

mod calls;
mod micro_results;
mod procwatch;
mod report;
mod scale;
mod startup;
mod stats;

use std::path::PathBuf;
use std::time::Instant;

struct Args {
    go: Option<PathBuf>,
    ours: Option<PathBuf>,
    rounds: usize,
    n: Vec<usize>,
    only: Option<String>,
    out: PathBuf,
}

fn parse_args() -> Args {
    let root = harness::repo_root();
    let mut a =
        Args { go: None, ours: None, rounds: 20, n: vec![100, 500], only: None, out: root.join("bench/results.md") };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--go" => a.go = Some(PathBuf::from(value())),
            "--ours" => a.ours = Some(PathBuf::from(value())),
            "--rounds" => a.rounds = value().parse().expect("--rounds N"),
            "--n" => a.n = value().split(',').map(|s| s.trim().parse().expect("--n 100,500")).collect(),
            "--only" => a.only = Some(value()),
            "--out" => a.out = PathBuf::from(value()),
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            other => panic!("unknown argument {other} (see benches/system/main.rs)"),
        }
    }
    a
}

fn main() {
    let args = parse_args();
    let began = Instant::now();
    let root = harness::repo_root();
    let work = root.join("bench/work");
    std::fs::create_dir_all(&work).expect("bench/work");
    let want = |what: &str| args.only.as_deref().is_none_or(|o| o == what);

    let startup = if want("startup") {
        let go = args.go.clone().expect("--go PATH: the Go provider to compare with (bench/run.sh fetches it)");
        eprintln!("bench: start-up, {} rounds of ours and the Go provider, interleaved", args.rounds);
        let ours = args.ours.clone().unwrap_or_else(common::binary);
        Some(startup::run(&ours, &go, args.rounds))
    } else {
        None
    };

    let mut scales = Vec::new();
    if want("scale") {
        let scratch = procwatch::scratch_dir(&work, "scale");
        for &n in &args.n {
            scales.push(scale::run(n, &scratch));
        }
    }

    // Criterion writes beside cargo's own output: <target>/criterion (target/tmp is CARGO_TARGET_TMPDIR).
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").to_path_buf();
    let micro = micro_results::load(&target.join("criterion"));
    let text = report::render(startup.as_ref(), &scales, &micro, began.elapsed());
    println!("{text}");
    std::fs::write(&args.out, &text).unwrap_or_else(|e| panic!("{}: {e}", args.out.display()));
    eprintln!("bench: report written to {}", args.out.display());
}
