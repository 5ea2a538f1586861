//! Local test machine: the user's test command run as a local process group,
//! N times with at most `parallel` at once, each with a wall-clock and an idle
//! timeout, its interleaved stdout+stderr captured like a console.

use std::path::PathBuf;
use std::time::Duration;

use kbisect_proc::{CancelToken, Cmd, ProcError, Status, Stream};

use crate::pool::run_pool;

/// What to run for one test run: a shell command line (`sh -c COMMAND`).
#[derive(Debug, Clone)]
pub struct LocalSpec {
    /// The command line.
    pub command: String,
    /// Where it runs.
    pub cwd: PathBuf,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Wall-clock limit.
    pub timeout: Duration,
    /// Limit on silence.
    pub idle_timeout: Option<Duration>,
    /// Bytes of console kept per run (the tail).
    pub output_cap: usize,
    /// Time between SIGTERM and SIGKILL when a run has to be stopped.
    pub grace: Duration,
}

impl LocalSpec {
    /// A spec with the default limits (5 minutes, no idle limit, 1 MiB kept).
    pub fn new(command: impl Into<String>, cwd: impl Into<PathBuf>) -> Self {
        LocalSpec {
            command: command.into(),
            cwd: cwd.into(),
            env: Vec::new(),
            timeout: Duration::from_secs(300),
            idle_timeout: None,
            output_cap: 1 << 20,
            grace: Duration::from_secs(2),
        }
    }
}

/// One finished run, before any interpretation.
#[derive(Debug, Clone)]
pub struct RawRun {
    /// The spec's position.
    pub index: usize,
    /// How it ended.
    pub status: Status,
    /// stdout and stderr interleaved in arrival order (the tail, capped).
    pub console: Vec<u8>,
    /// How long it took.
    pub duration: Duration,
}

/// Why runs stopped.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// The command could not be started.
    #[error("cannot run test command: {0}")]
    Proc(#[from] ProcError),
    /// Cancelled.
    #[error("interrupted")]
    Cancelled,
    /// The caller's callback stopped the runs.
    #[error("{0}")]
    Stopped(String),
}

/// Runs of commands on the local machine.
pub struct LocalRun<'a> {
    /// One spec per run to make.
    pub specs: &'a [LocalSpec],
    /// Runs at the same time.
    pub parallel: usize,
    /// Stops every run.
    pub cancel: &'a CancelToken,
}

impl LocalRun<'_> {
    /// Runs every spec once (`RawRun::index` is the spec's position),
    /// calling `on_done` on this thread as each run finishes. Stops at the
    /// first error (runs already started still finish).
    pub fn run(
        &self,
        on_done: &mut dyn FnMut(RawRun) -> Result<(), VmError>,
    ) -> Result<(), VmError> {
        let mut first_err: Option<VmError> = None;
        let positions: Vec<usize> = (0..self.specs.len()).collect();
        run_pool(
            &positions,
            self.parallel,
            |i| self.one(i),
            &mut |_, r: Result<RawRun, VmError>| {
                if first_err.is_some() {
                    return false;
                }
                let res = r.and_then(|raw| {
                    if raw.status == Status::Cancelled {
                        Err(VmError::Cancelled)
                    } else {
                        on_done(raw)
                    }
                });
                match res {
                    Ok(()) => true,
                    Err(e) => {
                        first_err = Some(e);
                        false
                    }
                }
            },
        );
        match first_err {
            Some(e) => Err(e),
            None if self.cancel.is_cancelled() => Err(VmError::Cancelled),
            None => Ok(()),
        }
    }

    fn one(&self, index: usize) -> Result<RawRun, VmError> {
        if self.cancel.is_cancelled() {
            return Err(VmError::Cancelled);
        }
        let s = &self.specs[index];
        let mut cmd = Cmd::new("sh")
            .arg("-c")
            .arg(&s.command)
            .cwd(&s.cwd)
            .timeout(s.timeout)
            .grace(s.grace)
            .output_cap(s.output_cap)
            .cancel(self.cancel.clone())
            .failpoint("test");
        for (k, v) in &s.env {
            cmd = cmd.env(k, v);
        }
        if let Some(idle) = s.idle_timeout {
            cmd = cmd.idle_timeout(idle);
        }
        let mut console = Vec::new();
        let cap = s.output_cap;
        let out = cmd.run_streaming(&mut |_: Stream, chunk: &[u8]| {
            console.extend_from_slice(chunk);
            if console.len() > cap.saturating_mul(2) {
                let cut = console.len() - cap;
                console.drain(..cut);
            }
        })?;
        if console.len() > cap {
            let cut = console.len() - cap;
            console.drain(..cut);
        }
        Ok(RawRun {
            index,
            status: out.status,
            console,
            duration: out.duration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cmd: &str) -> LocalSpec {
        let mut s = LocalSpec::new(cmd, std::env::temp_dir());
        s.timeout = Duration::from_secs(5);
        s
    }

    fn collect(s: &LocalSpec, n: usize, parallel: usize) -> Vec<RawRun> {
        let cancel = CancelToken::new();
        let mut got = Vec::new();
        let specs: Vec<LocalSpec> = (0..n)
            .map(|i| {
                let mut s = s.clone();
                s.env.push(("KBISECT_RUN".into(), i.to_string()));
                s
            })
            .collect();
        LocalRun {
            specs: &specs,
            parallel,
            cancel: &cancel,
        }
        .run(&mut |r| {
            got.push(r);
            Ok(())
        })
        .unwrap();
        got.sort_by_key(|r| r.index);
        got
    }

    #[test]
    fn runs_get_their_index_and_console() {
        let runs = collect(&spec("echo run $KBISECT_RUN; echo err >&2; exit 3"), 4, 2);
        assert_eq!(runs.len(), 4);
        for (i, r) in runs.iter().enumerate() {
            assert_eq!(r.status, Status::Exited(3));
            let text = String::from_utf8_lossy(&r.console);
            assert!(text.contains(&format!("run {i}")), "{text}");
            assert!(text.contains("err"));
        }
    }

    #[test]
    fn signals_and_timeouts_are_reported() {
        let runs = collect(&spec("kill -SEGV $$"), 1, 1);
        assert_eq!(runs[0].status, Status::Signaled(11));
        let mut s = spec("sleep 10");
        s.timeout = Duration::from_millis(300);
        s.grace = Duration::from_millis(100);
        let runs = collect(&s, 1, 1);
        assert_eq!(runs[0].status, Status::TimedOut);
        let mut s = spec("sleep 10");
        s.idle_timeout = Some(Duration::from_millis(300));
        s.grace = Duration::from_millis(100);
        let runs = collect(&s, 1, 1);
        assert_eq!(runs[0].status, Status::NoOutput);
    }

    #[test]
    fn cancelled_runs_are_an_error() {
        let s = spec("echo hi");
        let cancel = CancelToken::new();
        cancel.cancel();
        let specs = [s.clone(), s];
        let r = LocalRun {
            specs: &specs,
            parallel: 2,
            cancel: &cancel,
        }
        .run(&mut |_| Ok(()));
        assert!(matches!(r, Err(VmError::Cancelled)));
    }
}
