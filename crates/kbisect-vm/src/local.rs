//! Local test machine: the user's test command run as a local process group,
//! N times with at most `parallel` at once, each with a wall-clock and an idle
//! timeout, its interleaved stdout+stderr read like a console as it
//! streams: written to the run's log file (up to a cap) and scanned for the
//! crash, so memory stays bounded however much a run prints.

use std::path::PathBuf;
use std::time::Duration;

use kbisect_proc::{CancelToken, Cmd, ProcError, Status};

use crate::console::{CappedLog, DEFAULT_LOG_CAP};
use crate::matcher::CrashMatcher;
use crate::output::{OutputScan, RunOutput};
use crate::pool::run_pool;

/// What the process wrapper keeps of each pipe besides the stream: small,
/// since the stream itself is consumed as it arrives.
const PROC_TAIL: usize = 16 << 10;

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
    /// The log file the output streams to (created, or truncated), if any.
    pub log: Option<PathBuf>,
    /// Bytes of output written to the log; the rest is counted, and the log
    /// ends with a note saying how much was left out.
    pub log_cap: u64,
    /// Time between SIGTERM and SIGKILL when a run has to be stopped.
    pub grace: Duration,
}

impl LocalSpec {
    /// A spec with the default limits (5 minutes, no idle limit, no log,
    /// 64 MiB of log when one is set).
    pub fn new(command: impl Into<String>, cwd: impl Into<PathBuf>) -> Self {
        LocalSpec {
            command: command.into(),
            cwd: cwd.into(),
            env: Vec::new(),
            timeout: Duration::from_secs(300),
            idle_timeout: None,
            log: None,
            log_cap: DEFAULT_LOG_CAP,
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
    /// What its output (stdout and stderr interleaved in arrival order) showed.
    pub output: RunOutput,
    /// The log stopped at its cap.
    pub log_truncated: bool,
    /// The log could not be written (disk full): the first error.
    pub log_error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

/// Why runs stopped.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// The command could not be started.
    #[error("cannot run test command: {0}")]
    Proc(#[from] ProcError),
    /// A run's log file could not be created.
    #[error("{0}")]
    Log(String),
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
    /// Finds the crash in each run's output.
    pub matcher: &'a CrashMatcher,
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
        // Daemons a test starts (setsid) end with its batch: one scan for
        // all the batch's runs rather than one per run.
        let tag = kbisect_proc::new_escapee_tag();
        run_pool(
            &positions,
            self.parallel,
            |i| self.one(i, &tag),
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
        kbisect_proc::end_escapees(&tag);
        match first_err {
            Some(e) => Err(e),
            None if self.cancel.is_cancelled() => Err(VmError::Cancelled),
            None => Ok(()),
        }
    }

    fn one(&self, index: usize, tag: &str) -> Result<RawRun, VmError> {
        if self.cancel.is_cancelled() {
            return Err(VmError::Cancelled);
        }
        let s = &self.specs[index];
        let mut log = match &s.log {
            Some(p) => Some(CappedLog::create(p, s.log_cap).map_err(VmError::Log)?),
            None => None,
        };
        let mut cmd = Cmd::new("sh")
            .arg("-c")
            .arg(&s.command)
            .cwd(&s.cwd)
            .timeout(s.timeout)
            .grace(s.grace)
            .output_cap(PROC_TAIL)
            .cancel(self.cancel.clone())
            .escapee_tag(tag)
            .failpoint("test");
        for (k, v) in &s.env {
            cmd = cmd.env(k, v);
        }
        if let Some(idle) = s.idle_timeout {
            cmd = cmd.idle_timeout(idle);
        }
        let mut scan = OutputScan::new(self.matcher);
        let out = cmd.run_streaming(&mut |_, chunk: &[u8]| {
            if let Some(l) = log.as_mut() {
                l.write(chunk);
            }
            scan.push(chunk);
        })?;
        let log_truncated = log.as_ref().is_some_and(CappedLog::truncated);
        let log_error = log.and_then(|l| l.finish().err());
        Ok(RawRun {
            index,
            status: out.status,
            output: scan.finish(),
            log_truncated,
            log_error,
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
        let matcher = CrashMatcher::new(None).unwrap();
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
            matcher: &matcher,
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
            let text = String::from_utf8_lossy(&r.output.tail);
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
            matcher: &CrashMatcher::new(None).unwrap(),
        }
        .run(&mut |_| Ok(()));
        assert!(matches!(r, Err(VmError::Cancelled)));
    }

    #[test]
    fn output_streams_to_the_log_up_to_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = spec("echo first; echo BUG: bad thing; seq 1 100000");
        s.log = Some(dir.path().join("run.log"));
        let runs = collect(&s, 1, 1);
        let log = std::fs::read_to_string(dir.path().join("run.log")).unwrap();
        assert!(
            log.starts_with("first\nBUG: bad thing\n1\n"),
            "{}",
            &log[..40]
        );
        assert!(log.ends_with("\n100000\n"));
        assert_eq!(runs[0].output.bytes, log.len() as u64);
        assert!(!runs[0].log_truncated);
        let (c, line) = runs[0].output.crash.clone().unwrap();
        assert_eq!(
            (c.title.as_str(), line.as_str()),
            ("BUG: bad thing", "BUG: bad thing")
        );

        s.log_cap = 1000;
        let runs = collect(&s, 1, 1);
        assert!(runs[0].log_truncated);
        let log = std::fs::read_to_string(dir.path().join("run.log")).unwrap();
        let more = runs[0].output.bytes - 1000;
        assert!(
            log.ends_with(&format!(
                "\n[kbisect: console log truncated at 1000 bytes; {more} more bytes not written]\n"
            )),
            "{log}"
        );
        assert_eq!(
            runs[0].output.crash.as_ref().unwrap().0.title,
            "BUG: bad thing"
        );
    }

    #[test]
    fn a_log_that_cannot_be_created_is_an_error() {
        let mut s = spec("true");
        s.log = Some("/nonexistent/dir/run.log".into());
        let cancel = CancelToken::new();
        let r = LocalRun {
            specs: &[s],
            parallel: 1,
            cancel: &cancel,
            matcher: &CrashMatcher::new(None).unwrap(),
        }
        .run(&mut |_| Ok(()));
        match r {
            Err(VmError::Log(m)) => assert!(
                m.starts_with("cannot create /nonexistent/dir/run.log"),
                "{m}"
            ),
            r => panic!("{r:?}"),
        }
    }
}
