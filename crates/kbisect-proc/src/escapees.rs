//! Processes that leave their run's process group (`setsid`, a daemon's
//! double fork) are out of reach of `killpg`. Two things Linux offers
//! bring them back:
//!
//! - an environment tag: every command marked [`crate::Cmd::end_escapees`]
//!   runs with `KBISECT_PROC_TAG=<unique>` in its environment, which its
//!   descendants inherit whatever group or session they move to; when the
//!   command ends, every process whose `/proc/<pid>/environ` holds the tag
//!   is killed;
//! - a child subreaper ([`become_subreaper`], `PR_SET_CHILD_SUBREAPER`):
//!   orphans are reparented to kbisect instead of init, and kbisect reaps
//!   them, so none outlives the bisection unseen.
//!
//! A process that both leaves its group and scrubs its environment escapes;
//! a cgroup per run would catch it too, but cgroups are not delegated to
//! unprivileged users on most machines (nor mounted the same way), and
//! these two need nothing.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

/// The environment variable that tags a command's descendants.
pub const TAG_ENV: &str = "KBISECT_PROC_TAG";

static SUBREAPER: AtomicBool = AtomicBool::new(false);
static COUNTER: AtomicU64 = AtomicU64::new(0);
/// Children spawned through `Cmd` and not yet waited for: the reaper must
/// never take their exit status from the thread waiting for it.
static SPAWNED: Mutex<Option<HashSet<i32>>> = Mutex::new(None);

/// Makes this process the child subreaper of everything it starts: call
/// once, early, from a program's `main` (a library must not change a
/// process-wide attribute behind its user's back).
pub fn become_subreaper() -> std::io::Result<()> {
    nix::sys::prctl::set_child_subreaper(true).map_err(std::io::Error::from)?;
    SUBREAPER.store(true, Ordering::SeqCst);
    Ok(())
}

/// A tag no other command of this process has.
pub fn new_escapee_tag() -> String {
    new_tag()
}

/// Ends every process still carrying `tag` (and reaps what this subreaper
/// inherited): for commands run with [`crate::Cmd::escapee_tag`]. Returns
/// how many were killed.
pub fn end_escapees(tag: &str) -> usize {
    end_tagged(tag)
}

pub(crate) fn new_tag() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Held while spawning, so the reaper cannot see a child before it is registered.
pub(crate) struct SpawnGuard(MutexGuard<'static, Option<HashSet<i32>>>);

pub(crate) fn spawning() -> Option<SpawnGuard> {
    SPAWNED.lock().ok().map(SpawnGuard)
}

impl SpawnGuard {
    pub(crate) fn register(mut self, pid: i32) {
        self.0.get_or_insert_with(HashSet::new).insert(pid);
    }
}

/// The child has been waited for.
pub(crate) fn forget(pid: i32) {
    if let Ok(mut s) = SPAWNED.lock()
        && let Some(set) = s.as_mut()
    {
        set.remove(&pid);
    }
}

fn pids() -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect()
}

fn has_tag(pid: i32, needle: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|&b| b == 0).any(|kv| kv == needle))
}

/// Kills every process still carrying `tag`, then reaps what it orphaned
/// to us. Returns how many were killed.
pub(crate) fn end_tagged(tag: &str) -> usize {
    let needle = format!("{TAG_ENV}={tag}").into_bytes();
    let me = std::process::id() as i32;
    let mut killed = 0;
    for pid in pids() {
        if pid != me && has_tag(pid, &needle) && kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok() {
            killed += 1;
        }
    }
    if killed > 0 {
        tracing::debug!(tag, killed, "ended processes that left their run's group");
        // Give the kills a moment to land before reaping.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    reap_orphans();
    killed
}

/// `(ppid, state)` from `/proc/<pid>/stat` (fields after the command name).
fn parent_and_state(pid: i32) -> Option<(i32, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((ppid, state))
}

/// Reaps zombies reparented to this subreaper that no `Cmd` is waiting for.
pub(crate) fn reap_orphans() {
    if !SUBREAPER.load(Ordering::SeqCst) {
        return;
    }
    let me = std::process::id() as i32;
    let Ok(spawned) = SPAWNED.lock() else { return };
    for pid in pids() {
        let ours = spawned.as_ref().is_some_and(|s| s.contains(&pid));
        if !ours && parent_and_state(pid).is_some_and(|(pp, st)| pp == me && st == 'Z') {
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
    }
}
