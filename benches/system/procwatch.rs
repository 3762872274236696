//! Runs one terraform command and measures the provider plugin processes it starts, without changing how they
//! run (no wrapper, no preload, no extra environment for the plugin except a private TMPDIR).
//!
//! Method:
//! - CPU, exact: terraform reaps each plugin it started, so the kernel adds the plugin's user+system time to
//!   terraform's `cutime`+`cstime`. We wait for terraform with `waitid(WNOWAIT)`, which leaves it a zombie, read
//!   those two fields from `/proc/<terraform>/stat`, then reap it. Terraform starts no other child processes here,
//!   so that sum is the CPU of all plugin processes of the command (resolution: one clock tick, 10 ms).
//! - Processes: terraform gets a TMPDIR of its own, which it passes on to the plugins; every plugin process makes
//!   one `eksidentity-plugin-*` socket directory there at start and removes it at exit. An inotify watch counts
//!   them (exact, even for a process that lives a few milliseconds) and, on each creation, a scan of /proc finds
//!   the new children of terraform whose executable is the provider.
//! - Peak RSS: `VmHWM` of each plugin process, read every 10 ms and again the moment its socket directory is
//!   removed (the process is then in its last steps of exiting). VmHWM never decreases, so the only possible miss
//!   is memory first touched in those last steps.
//!
//! Nothing here may change what the plugin does or costs beyond a few file reads from another process.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The socket directory prefix the provider uses under TMPDIR (src/plugin/listen.rs).
const SOCKET_DIR_PREFIX: &str = "eksidentity-plugin-";
const POLL: Duration = Duration::from_millis(10);

/// The last reading of one plugin process.
#[derive(Clone, Debug, Default)]
pub struct PluginProcess {
    /// From the command's start to when the process was first and last seen alive.
    pub first_seen: Duration,
    pub last_seen: Duration,
    /// utime+stime at the last reading.
    pub cpu: Duration,
    pub hwm_kib: u64,
}

#[derive(Debug)]
pub struct CommandRun {
    pub code: i32,
    pub wall: Duration,
    /// Exact CPU of every plugin process terraform reaped (see the module doc).
    pub plugin_cpu: Duration,
    /// Terraform's own CPU, for context.
    pub terraform_cpu: Duration,
    /// Plugin processes counted by their socket directories (exact).
    pub started: usize,
    /// Plugin processes found and sampled.
    pub processes: Vec<PluginProcess>,
    pub stdout: String,
    pub stderr: String,
}

impl CommandRun {
    pub fn peak_hwm_kib(&self) -> u64 {
        self.processes.iter().map(|p| p.hwm_kib).max().unwrap_or(0)
    }
}

fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

fn ticks(n: u64) -> Duration {
    Duration::from_nanos(n * 1_000_000_000 / ticks_per_second())
}

/// `/proc/<pid>/stat` fields after the command name: (ppid, utime, stime, cutime, cstime) in clock ticks.
fn read_stat(pid: i32) -> Option<(i32, u64, u64, u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    let n = |i: usize| f.get(i - 3).and_then(|s| s.parse::<i64>().ok());
    Some((n(4)? as i32, n(14)? as u64, n(15)? as u64, n(16)?.max(0) as u64, n(17)?.max(0) as u64))
}

fn read_hwm_kib(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn exe_name(pid: i32) -> Option<String> {
    let p = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    Some(p.file_name()?.to_string_lossy().into_owned())
}

/// Children of `parent` whose executable name starts with `exe_prefix` (a full /proc scan: only on events).
fn plugin_children(parent: i32, exe_prefix: &str) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| read_stat(pid).is_some_and(|s| s.0 == parent))
        .filter(|&pid| exe_name(pid).is_some_and(|n| n.starts_with(exe_prefix)))
        .collect()
}

/// An inotify watch for socket directories created and removed under one directory.
struct DirEvents {
    fd: i32,
}

impl DirEvents {
    fn new(dir: &Path) -> std::io::Result<DirEvents> {
        // SAFETY: plain syscalls on a descriptor we own; the path is a valid NUL-terminated string.
        unsafe {
            let fd = libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let c = CString::new(dir.as_os_str().as_bytes()).expect("no NUL in path");
            if libc::inotify_add_watch(fd, c.as_ptr(), libc::IN_CREATE | libc::IN_DELETE) < 0 {
                let e = std::io::Error::last_os_error();
                libc::close(fd);
                return Err(e);
            }
            Ok(DirEvents { fd })
        }
    }

    /// Waits up to `timeout` and returns (created, removed) socket directories seen.
    fn wait(&self, timeout: Duration) -> (usize, usize) {
        let mut pfd = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as i32) };
        if ready <= 0 {
            return (0, 0);
        }
        let mut buf = [0u8; 8192];
        let (mut created, mut removed) = (0, 0);
        loop {
            // SAFETY: reading into a buffer we own, of the stated length.
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            let mut off = 0usize;
            let head = std::mem::size_of::<libc::inotify_event>();
            while off + head <= n as usize {
                // SAFETY: the kernel wrote whole events; read_unaligned copes with the byte buffer's alignment.
                let ev: libc::inotify_event = unsafe { std::ptr::read_unaligned(buf[off..].as_ptr().cast()) };
                let name = &buf[off + head..off + head + ev.len as usize];
                let name = String::from_utf8_lossy(name.split(|b| *b == 0).next().unwrap_or_default());
                if name.starts_with(SOCKET_DIR_PREFIX) {
                    if ev.mask & libc::IN_CREATE != 0 {
                        created += 1;
                    }
                    if ev.mask & libc::IN_DELETE != 0 {
                        removed += 1;
                    }
                }
                off += head + ev.len as usize;
            }
        }
        (created, removed)
    }
}

impl Drop for DirEvents {
    fn drop(&mut self) {
        // SAFETY: closing the descriptor we opened.
        unsafe { libc::close(self.fd) };
    }
}

/// Runs `cmd` (stdout and stderr to files in `scratch`, TMPDIR set to a fresh folder there) and measures the
/// plugin processes whose executable name starts with `exe_prefix`.
pub fn run(mut cmd: Command, scratch: &Path, exe_prefix: &str) -> CommandRun {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let seq = SEQ.fetch_add(1, Ordering::SeqCst);
    let tmp = scratch.join(format!("tmp-{seq}"));
    std::fs::create_dir_all(&tmp).expect("TMPDIR for terraform");
    let out_path = scratch.join(format!("cmd-{seq}.stdout"));
    let err_path = scratch.join(format!("cmd-{seq}.stderr"));
    let events = DirEvents::new(&tmp).expect("inotify watch");
    cmd.env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"));

    let started = Instant::now();
    let child = cmd.spawn().expect("start terraform");
    let tf_pid = child.id() as i32;
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        let exe_prefix = exe_prefix.to_string();
        std::thread::spawn(move || watch(tf_pid, &exe_prefix, events, started, &stop))
    };

    // Wait without reaping, so terraform's accounting of its reaped children can still be read.
    // SAFETY: waitid on our own child; siginfo is plain data.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::waitid(libc::P_PID, tf_pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
    assert_eq!(rc, 0, "waitid: {}", std::io::Error::last_os_error());
    let wall = started.elapsed();
    let (_, utime, stime, cutime, cstime) = read_stat(tf_pid).expect("stat of the exited terraform");
    stop.store(true, Ordering::SeqCst);
    let (started_count, processes) = watcher.join().expect("watcher thread");
    let mut child = child;
    let status = child.wait().expect("reap terraform");
    let _ = std::fs::remove_dir_all(&tmp);
    CommandRun {
        code: status.code().unwrap_or(-1),
        wall,
        plugin_cpu: ticks(cutime + cstime),
        terraform_cpu: ticks(utime + stime),
        started: started_count,
        processes,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

fn watch(
    tf_pid: i32,
    exe_prefix: &str,
    events: DirEvents,
    started: Instant,
    stop: &AtomicBool,
) -> (usize, Vec<PluginProcess>) {
    let mut seen: BTreeMap<i32, PluginProcess> = BTreeMap::new();
    let mut alive: Vec<i32> = Vec::new();
    let mut created_total = 0;
    let sample = |pid: i32, seen: &mut BTreeMap<i32, PluginProcess>| -> bool {
        let (Some((_, u, s, _, _)), Some(hwm)) = (read_stat(pid), read_hwm_kib(pid)) else { return false };
        let p = seen.get_mut(&pid).expect("tracked");
        p.cpu = ticks(u + s);
        p.hwm_kib = p.hwm_kib.max(hwm);
        p.last_seen = started.elapsed();
        true
    };
    loop {
        let done = stop.load(Ordering::SeqCst);
        let (created, removed) = events.wait(POLL);
        created_total += created;
        if removed > 0 {
            // A plugin is exiting: take everyone's reading now.
            alive.retain(|&pid| sample(pid, &mut seen));
        }
        if created > 0 {
            // A plugin made its socket directory, so it is running: find it among terraform's children.
            for pid in plugin_children(tf_pid, exe_prefix) {
                if let std::collections::btree_map::Entry::Vacant(e) = seen.entry(pid) {
                    e.insert(PluginProcess { first_seen: started.elapsed(), ..Default::default() });
                    alive.push(pid);
                }
            }
        }
        alive.retain(|&pid| sample(pid, &mut seen));
        if done {
            break;
        }
    }
    (created_total, seen.into_values().collect())
}

/// A scratch folder for command output and TMPDIRs.
pub fn scratch_dir(root: &Path, name: &str) -> PathBuf {
    let d = root.join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}
