//! Process groups in flight, recorded as files in a directory, so that a
//! successor can end what a predecessor left running when it was killed
//! with SIGKILL (which it cannot catch). Without this, a build killed that
//! way keeps writing into the worktree while the resumed bisection builds
//! there again.
//!
//! A record is `DIR/<pgid>` holding the leader's start time (from
//! `/proc/<pid>/stat`), so a pid number reused since is never signalled.

use std::io;
use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Ends the groups recorded in `dir` whose leader is gone or is still the
/// process that was recorded, and removes every record. Call it while
/// holding the lock that makes this process the only user of `dir`.
/// Returns how many leftover groups were ended.
pub fn end_leftovers(dir: &Path) -> io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut ended = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let Some(pgid) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let recorded = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        let ours = match (start_time(pgid), recorded) {
            // The leader lives: only if it is the very process recorded.
            (Some(now), Some(then)) => now == then,
            // The leader is gone: while any member of its group lives, the
            // number stays taken, so the group can only be ours.
            (None, _) => true,
            (Some(_), None) => false,
        };
        if ours && pgid > 1 && killpg(Pid::from_raw(pgid), Signal::SIGKILL).is_ok() {
            ended += 1;
        }
        let _ = std::fs::remove_file(&path);
    }
    Ok(ended)
}

/// The record of one group; removed when dropped (the group is dead by then).
pub(crate) struct Record(Option<PathBuf>);

impl Drop for Record {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Records `pgid` in `dir`, if any. Failing to record never fails the run.
pub(crate) fn record(pgid: i32, dir: Option<&Path>) -> Record {
    let Some(dir) = dir else {
        return Record(None);
    };
    let path = dir.join(pgid.to_string());
    let stamp = start_time(pgid).map(|t| t.to_string()).unwrap_or_default();
    match std::fs::write(&path, stamp) {
        Ok(()) => Record(Some(path)),
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "cannot record process group");
            Record(None)
        }
    }
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks
/// since boot. The command name (field 2) may hold spaces and parentheses,
/// so fields are counted after its closing parenthesis.
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::{CommandExt, ExitStatusExt};

    #[test]
    fn leftover_group_of_a_killed_predecessor_is_ended() {
        let dir = tempfile::tempdir().unwrap();
        // A "predecessor's" build: its own group, a child and a grandchild.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 100 & sleep 100; wait"])
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = child.id() as i32;
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::write(
            dir.path().join(pgid.to_string()),
            start_time(pgid).unwrap().to_string(),
        )
        .unwrap();
        // A record whose pid now belongs to someone else is left alone.
        std::fs::write(dir.path().join("1"), "0").unwrap();
        assert_eq!(end_leftovers(dir.path()).unwrap(), 1);
        let st = child.wait().unwrap();
        assert_eq!(st.signal(), Some(9));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn start_time_parses_names_with_spaces_and_parens() {
        assert!(start_time(std::process::id() as i32).is_some());
        assert!(start_time(-5).is_none());
    }
}
