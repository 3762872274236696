//! Processes of a running terraform: finding the provider plugin it started, to kill it like a crash would.
//! Linux only (reads /proc).

use std::path::PathBuf;

/// Pids whose parent is `parent`.
pub fn children_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

/// The parent pid from /proc/<pid>/stat (the field after the parenthesised command name, which may hold spaces).
pub fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Whether `pid` has exited: gone from /proc, or a zombie its new parent has not reaped yet.
pub fn has_exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

pub fn exe_of(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// Every process below `root` (children, their children, ...).
pub fn descendants_of(root: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        for c in children_of(p) {
            out.push(c);
            todo.push(c);
        }
    }
    out
}

/// The eksidentity provider processes terraform `terraform_pid` started: processes below it running a copy of
/// this build's binary (from the test's plugin directory, or where `terraform init` installed it). Below, not
/// only children: Terraform 1.0 re-runs itself as a child to catch its own panics, and that child starts plugins.
pub fn plugin_pids(terraform_pid: u32) -> Vec<u32> {
    descendants_of(terraform_pid)
        .into_iter()
        .filter(|pid| {
            exe_of(*pid).is_some_and(|exe| {
                exe.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("terraform-provider-eksidentity"))
            })
        })
        .collect()
}

pub fn kill(pid: u32, signal: i32) {
    // SAFETY: kill(2) on a pid we found as our own grandchild.
    unsafe {
        libc::kill(pid as i32, signal);
    }
}
