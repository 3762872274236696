//! Every example under examples/ is applied against the emulator, so the docs never show a configuration that does
//! not work: init, apply, an empty re-plan, the import commands of its import.sh, destroy, nothing left in AWS.
//!
//! Folders are found on disk: any folder under examples/ holding .tf files is a root module and is covered without
//! changing this file. A folder whose configuration declares `variable "mode"` (the migration example) is applied
//! once per step of the migration, in order. This file knows nothing of what the examples contain beyond that;
//! the behaviour of each mode is checked by irsa.rs and pod_identity.rs.

mod harness;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness::{repo_root, Env, Workdir};
use serde_json::json;

/// The cluster every example defaults to, and the one import.sh's documented ID names.
const CLUSTER: &str = "demo";

/// The migration's steps, in the order examples/.../migration/main.tf documents them.
const MIGRATION: [&str; 3] = ["irsa", "both", "pod_identity"];

/// Every folder under examples/ that holds a .tf file, sorted, relative to the repository root.
fn example_folders() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).expect("read examples/").map(|e| e.expect("entry").path()).collect();
        entries.sort();
        if entries.iter().any(|p| p.is_file() && p.extension().is_some_and(|e| e == "tf")) {
            out.push(dir.to_path_buf());
        }
        for p in entries.iter().filter(|p| p.is_dir() && !p.ends_with(".terraform")) {
            walk(p, out);
        }
    }
    let root = repo_root();
    let mut out = Vec::new();
    walk(&root.join("examples"), &mut out);
    out.into_iter().map(|p| p.strip_prefix(&root).unwrap().to_path_buf()).collect()
}

/// The .tf files of a folder, concatenated.
fn sources(folder: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join(folder))
        .expect("example folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read_to_string(p).expect("read .tf")).collect::<Vec<_>>().join("\n")
}

/// Addresses of the `resource "type" "name"` blocks (not commented out), sorted.
fn declared_resources(src: &str) -> Vec<String> {
    let mut out: Vec<String> = src
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("resource \""))
        .map(|rest| {
            let parts: Vec<&str> = rest.split('"').collect();
            format!("{}.{}", parts[0], parts[2])
        })
        .collect();
    out.sort();
    out
}

fn declares_variable(src: &str, name: &str) -> bool {
    src.lines().any(|l| l.trim_start().starts_with(&format!("variable \"{name}\"")))
}

/// `terraform import <address> <id>` lines of an import.sh, as (address, id).
fn import_commands(script: &str) -> Vec<(String, String)> {
    script
        .lines()
        .filter_map(|l| l.trim().strip_prefix("terraform import "))
        .map(|rest| {
            let words: Vec<&str> = rest.split_whitespace().collect();
            assert_eq!(words.len(), 2, "import.sh: expected `terraform import <address> <id>`: {rest}");
            (words[0].to_string(), words[1].to_string())
        })
        .collect()
}

/// Waits for addons in DELETING (EKS removes them in the background), then asserts that no role, OIDC provider,
/// association or addon exists.
#[track_caller]
fn assert_nothing_left(env: &Env, folder: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let objects = loop {
        let objects = env.emu().objects();
        let deleting = objects["addons"].as_array().unwrap().iter().any(|a| a["status"] == "DELETING");
        if !deleting || Instant::now() > deadline {
            break objects;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for kind in ["roles", "oidc_providers", "associations", "addons"] {
        assert_eq!(objects[kind], json!([]), "{}: {kind} left after destroy: {}", folder.display(), objects[kind]);
    }
}

/// Applies and re-plans; the state must hold exactly the declared resources.
#[track_caller]
fn apply_and_replan(wd: &Workdir, folder: &Path, declared: &[String], step: &str) {
    let r = wd.apply();
    assert!(r.ok(), "{} ({step}): terraform apply failed:\n{}", folder.display(), r.text());
    let r = wd.plan();
    assert_eq!(r.code, 0, "{} ({step}): the plan after apply is not empty:\n{}", folder.display(), r.text());
    let mut state = wd.state_list();
    state.sort();
    assert_eq!(state, declared, "{} ({step}): the state differs from the declared resources", folder.display());
}

/// A plan in which every resource is a no-op. Terraform does not write outputs on import (nor keep them through
/// `state rm`), so after an import the plan may only add the example's outputs back: that changes no
/// infrastructure, and any resource change still fails here.
#[track_caller]
fn assert_no_resource_changes(wd: &Workdir, what: &str) {
    let r = wd.run(&["plan", "-no-color", "-input=false", "-out=import.tfplan"]);
    assert!(r.ok(), "{what} failed:\n{}", r.text());
    let shown = wd.run(&["show", "-json", "import.tfplan"]).expect_ok();
    let plan: serde_json::Value = serde_json::from_str(&shown.stdout).expect("show -json is JSON");
    let changes = plan["resource_changes"].as_array().cloned().unwrap_or_default();
    let changed: Vec<_> = changes.iter().filter(|c| c["change"]["actions"] != json!(["no-op"])).collect();
    assert!(changed.is_empty(), "{what} changes resources:\n{}", r.text());
    assert!(!changes.is_empty(), "{what}: the plan has no resource at all:\n{}", r.text());
}

/// The commands of import.sh, run as documented: forget the resource, import it, and the plan must be empty.
fn check_import_sh(wd: &Workdir, folder: &Path, declared: &[String]) {
    let script = std::fs::read_to_string(repo_root().join(folder).join("import.sh")).expect("read import.sh");
    let commands = import_commands(&script);
    assert!(!commands.is_empty(), "{}/import.sh has no `terraform import` command", folder.display());
    for (i, (address, id)) in commands.iter().enumerate() {
        assert!(
            declared.contains(address),
            "{}/import.sh imports {address}, which the example lacks",
            folder.display()
        );
        let res = wd.resource(address);
        let id = if i == 0 {
            // The first command is the documented ID format: it must be the resource's own `id`, run literally.
            assert_eq!(
                res["id"],
                json!(id),
                "{}/import.sh: the documented ID is not the resource's id",
                folder.display()
            );
            id.clone()
        } else if !id.contains('/') {
            // A role name: the same command shape with the role this example created.
            res["role_name"].as_str().expect("role_name").to_string()
        } else {
            // <issuer host and path>/<namespace>/<service_account> is for IRSA without cluster_name, which this
            // example does not configure; irsa.rs (emu_irsa_without_a_cluster_name_and_with_a_wildcard) runs it.
            println!("{}/import.sh: `{address} {id}`: issuer form, not run here (see irsa.rs)", folder.display());
            continue;
        };
        wd.state_rm(address);
        let r = wd.import(address, &id);
        assert!(r.ok(), "{}: terraform import {address} {id} failed:\n{}", folder.display(), r.text());
        assert_no_resource_changes(wd, &format!("{}: the plan after import {id}", folder.display()));
        println!("{}/import.sh: import {address} {id}: no resource changes", folder.display());
    }
}

fn exercise(env: &Env, folder: &Path) {
    let emu = env.emu();
    // Each example starts from an empty account, so what one leaves cannot hide or cause another's failure.
    emu.admin("POST", "/reset", None);
    emu.create_cluster(CLUSTER);
    let src = sources(folder);
    let declared = declared_resources(&src);

    let mut wd = env.workdir();
    wd.copy_from(&repo_root().join(folder));
    // Variables an example may declare; the environment sets only what is declared (undeclared TF_VAR_ are ignored).
    wd.set_env("TF_VAR_cluster_name", CLUSTER);
    wd.set_env("TF_VAR_region", &emu.region);
    wd.set_env("TF_VAR_oidc_ca_bundle", &emu.ca_bundle.display().to_string());
    wd.set_env("TF_VAR_endpoint", &emu.endpoint);
    wd.init();

    if declares_variable(&src, "mode") {
        let mut role_arn = None;
        for mode in MIGRATION {
            wd.set_env("TF_VAR_mode", mode);
            apply_and_replan(&wd, folder, &declared, &format!("mode = {mode}"));
            println!("{}: mode = {mode}: applied, plan empty", folder.display());
            let outputs = wd.outputs();
            if let Some(arn) = outputs.get("role_arn") {
                let first = role_arn.get_or_insert_with(|| arn.clone());
                assert_eq!(arn, first, "{}: the role ARN changed at mode = {mode}", folder.display());
            }
        }
    } else {
        apply_and_replan(&wd, folder, &declared, "apply");
    }

    if repo_root().join(folder).join("import.sh").exists() {
        check_import_sh(&wd, folder, &declared);
    }

    let r = wd.destroy();
    assert!(r.ok(), "{}: terraform destroy failed:\n{}", folder.display(), r.text());
    assert!(wd.state_list().is_empty(), "{}: resources left in the state after destroy", folder.display());
    assert_nothing_left(env, folder);
}

#[test]
fn examples_are_found_on_disk() {
    let found = example_folders();
    // The folders the docs link to; any other folder with .tf files is picked up as well.
    for known in [
        "examples/provider",
        "examples/provider/endpoints",
        "examples/quickstart",
        "examples/resources/eksidentity_service_account_role",
        "examples/resources/eksidentity_service_account_role/both",
        "examples/resources/eksidentity_service_account_role/irsa",
        "examples/resources/eksidentity_service_account_role/migration",
        "examples/resources/eksidentity_service_account_role/pod_identity",
    ] {
        assert!(found.contains(&PathBuf::from(known)), "{known} not found among {found:?}");
    }
    let resource_folder = repo_root().join("examples/resources/eksidentity_service_account_role");
    assert!(!import_commands(&std::fs::read_to_string(resource_folder.join("import.sh")).unwrap()).is_empty());
    assert!(declares_variable(
        &sources(Path::new("examples/resources/eksidentity_service_account_role/migration")),
        "mode"
    ));
}

#[test]
fn emu_every_example_applies_replans_empty_imports_and_destroys() {
    let env = Env::start();
    let folders = example_folders();
    let mut failures = Vec::new();
    for folder in &folders {
        let started = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| exercise(&env, folder))) {
            Ok(()) => println!("{}: ok ({:.1} s)", folder.display(), started.elapsed().as_secs_f64()),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panicked".to_string());
                failures.push(format!("{}: {msg}", folder.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples failed:\n\n{}",
        failures.len(),
        folders.len(),
        failures.join("\n\n")
    );
}
