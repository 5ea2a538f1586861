//! The command builder: what to run and under which limits.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::output::{Output, ProcError, Stream};

/// Default per-stream output cap: enough for any build log tail worth reading.
const DEFAULT_CAP: usize = 4 << 20;
/// Default time between SIGTERM and SIGKILL.
const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// A shared flag that asks running commands to stop, and optionally the
/// directory where the process groups of those commands are recorded (so a
/// successor can end them if this process is killed, see [`crate::end_leftovers`]).
///
/// Clones share the flag, so one token can stop every command of a
/// session; [`CancelToken::recording_groups_in`] derives a token with the
/// same flag that also records. No state is global: two sessions in one
/// process record into their own directories.
#[derive(Clone, Debug, Default)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
    /// Set for a [`CancelToken::child`]: cancelling the parent cancels it.
    parent: Option<Arc<CancelToken>>,
    groups: Option<Arc<PathBuf>>,
}

impl CancelToken {
    /// A fresh token (not cancelled, recording nothing).
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Asks every command holding this token (or a clone) to stop.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called (on this token, a clone,
    /// or the parent of a child token).
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst) || self.parent.as_ref().is_some_and(|p| p.is_cancelled())
    }

    /// The same flag, and the process group of every command run with the
    /// returned token recorded in `dir` while it runs.
    pub fn recording_groups_in(&self, dir: &Path) -> CancelToken {
        CancelToken {
            flag: self.flag.clone(),
            parent: self.parent.clone(),
            groups: Some(Arc::new(dir.to_path_buf())),
        }
    }

    /// A token cancelled whenever this one is, that can also be cancelled
    /// alone (stopping only the commands holding it), and that records
    /// process groups where this one does: one VM among several, stopped
    /// by its own watchdog without stopping the session.
    pub fn child(&self) -> CancelToken {
        CancelToken {
            flag: Arc::new(AtomicBool::new(false)),
            parent: Some(Arc::new(self.clone())),
            groups: self.groups.clone(),
        }
    }

    pub(crate) fn groups_dir(&self) -> Option<&Path> {
        self.groups.as_deref().map(PathBuf::as_path)
    }
}

/// An external program to run, with its arguments, environment and limits.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub(crate) program: OsString,
    pub(crate) args: Vec<OsString>,
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) envs: Vec<(OsString, OsString)>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) grace: Duration,
    pub(crate) output_cap: usize,
    pub(crate) stdin: Option<Vec<u8>>,
    pub(crate) cancel: Option<CancelToken>,
    pub(crate) failpoint: Option<String>,
    pub(crate) end_escapees: bool,
    pub(crate) escapee_tag: Option<String>,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Cmd {
        Cmd {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            cwd: None,
            envs: Vec::new(),
            timeout: None,
            idle_timeout: None,
            grace: DEFAULT_GRACE,
            output_cap: DEFAULT_CAP,
            stdin: None,
            cancel: None,
            failpoint: None,
            end_escapees: false,
            escapee_tag: None,
        }
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Cmd {
        self.args.push(a.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, a: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(a.into_iter().map(|s| s.as_ref().to_owned()));
        self
    }

    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// Sets a variable for the child; wins over the scrubbing of `GIT_*` and `LC_ALL`.
    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Cmd {
        self.envs
            .push((k.as_ref().to_owned(), v.as_ref().to_owned()));
        self
    }

    /// Wall-clock limit from spawn; the group is terminated and the status is `TimedOut`.
    pub fn timeout(mut self, d: Duration) -> Cmd {
        self.timeout = Some(d);
        self
    }

    /// Limit on silence (no byte on stdout nor stderr); the status is `NoOutput`.
    pub fn idle_timeout(mut self, d: Duration) -> Cmd {
        self.idle_timeout = Some(d);
        self
    }

    /// Time between SIGTERM and SIGKILL when the group has to be stopped.
    pub fn grace(mut self, d: Duration) -> Cmd {
        self.grace = d;
        self
    }

    /// Bytes kept per stream; the tail is kept because that is where errors are.
    pub fn output_cap(mut self, bytes: usize) -> Cmd {
        self.output_cap = bytes;
        self
    }

    pub fn stdin_bytes(mut self, b: Vec<u8>) -> Cmd {
        self.stdin = Some(b);
        self
    }

    pub fn cancel(mut self, c: CancelToken) -> Cmd {
        self.cancel = Some(c);
        self
    }

    /// Names the failpoint hit while the program runs (just after it
    /// started): a test can kill kbisect there, leaving the program
    /// running, as a `kill -9` in the middle of it would (see [`crate::failpoint`]).
    pub fn failpoint(mut self, name: impl Into<String>) -> Cmd {
        self.failpoint = Some(name.into());
        self
    }

    /// When the program ends, also ends its descendants that left its
    /// process group (daemons, `setsid`), found by an environment tag (see
    /// [`crate::become_subreaper`]). For builds and test runs; git needs it not.
    pub fn end_escapees(mut self) -> Cmd {
        self.end_escapees = true;
        self
    }

    /// Tags the program's descendants with `tag` (see [`crate::new_escapee_tag`])
    /// and leaves ending them to the caller ([`crate::end_escapees`]): a
    /// batch of parallel runs shares one tag and one scan.
    pub fn escapee_tag(mut self, tag: impl Into<String>) -> Cmd {
        self.escapee_tag = Some(tag.into());
        self
    }

    /// Program and arguments, shell-quoted, for errors and logs.
    pub fn argv_string(&self) -> String {
        let mut s = shell_quote(&self.program);
        for a in &self.args {
            s.push(' ');
            s.push_str(&shell_quote(a));
        }
        s
    }

    /// Runs to completion; `Ok` whatever the exit status, `Err` only when it could not run.
    pub fn run(&self) -> Result<Output, ProcError> {
        crate::run::run(self, None)
    }

    /// Like [`Cmd::run`], but anything but exit code 0 is `ProcError::Failed`.
    pub fn run_checked(&self) -> Result<Output, ProcError> {
        let out = self.run()?;
        if out.success() {
            Ok(out)
        } else {
            Err(ProcError::Failed {
                argv: self.argv_string(),
                status: out.status,
                stderr_tail: out.stderr_tail(20),
            })
        }
    }

    /// Like [`Cmd::run`], and hands every chunk to `on_chunk` as it arrives.
    pub fn run_streaming(
        &self,
        on_chunk: &mut dyn FnMut(Stream, &[u8]),
    ) -> Result<Output, ProcError> {
        crate::run::run(self, Some(on_chunk))
    }
}

fn shell_quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-^~".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_string_quotes_only_when_needed() {
        let c = Cmd::new("git").args(["log", "--format=%H", "a b", "it's", ""]);
        assert_eq!(c.argv_string(), r"git log --format=%H 'a b' 'it'\''s' ''");
    }

    #[test]
    fn cancel_token_is_shared_by_clones() {
        let t = CancelToken::new();
        let u = t.clone();
        assert!(!u.is_cancelled());
        t.cancel();
        assert!(u.is_cancelled());
    }

    #[test]
    fn a_child_is_cancelled_with_its_parent_but_not_the_other_way() {
        let parent = CancelToken::new().recording_groups_in(Path::new("/tmp/groups"));
        let child = parent.child();
        assert_eq!(child.groups_dir(), Some(Path::new("/tmp/groups")));
        child.cancel();
        assert!(child.is_cancelled() && !parent.is_cancelled());
        let child = parent.child();
        parent.cancel();
        assert!(child.is_cancelled() && child.child().is_cancelled());
    }
}
