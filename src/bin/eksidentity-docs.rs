//! Writes docs/ from templates/, examples/ and the provider's schemas (`make docs`).
//!
//! Usage: `eksidentity-docs [--check] [REPO_ROOT]`. `--check` writes nothing and exits 1 when the committed docs
//! differ from what would be written. REPO_ROOT defaults to this crate's directory.

use std::path::PathBuf;
use std::process::ExitCode;

use eksidentity::docgen::{self, Registry};

fn main() -> ExitCode {
    let mut check = false;
    let mut root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: eksidentity-docs [--check] [REPO_ROOT]");
                return ExitCode::SUCCESS;
            }
            other if other.starts_with('-') => {
                eprintln!("eksidentity-docs: unknown option {other} (usage: eksidentity-docs [--check] [REPO_ROOT])");
                return ExitCode::from(2);
            }
            other => root = PathBuf::from(other),
        }
    }
    match run(&root, check) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("eksidentity-docs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(root: &std::path::Path, check: bool) -> Result<ExitCode, docgen::DocsError> {
    let files = docgen::render_all(root, &Registry::current())?;
    if check {
        let diffs = docgen::differences(root, &files)?;
        if diffs.is_empty() {
            println!("docs: {} pages up to date", files.len());
            return Ok(ExitCode::SUCCESS);
        }
        for d in &diffs {
            eprintln!("docs: {d}");
        }
        eprintln!("docs: run `make docs` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    for path in docgen::write_all(root, &files)? {
        println!("docs: wrote {}", path.display());
    }
    let stale = docgen::stale_pages(root, &files)?;
    for page in &stale {
        eprintln!(
            "docs: {} has no template; move its text into {}/ as a .md.tmpl file, or delete it",
            page.display(),
            docgen::TEMPLATES_DIR
        );
    }
    Ok(if stale.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
