//! A bisection's work dir: the lock, the journal, the artifacts, and the
//! journaling wrappers that make a killed bisection resumable.
//!
//! Resume is memoization at the seams: the engine is deterministic, so
//! replaying the recorded build and run outcomes through [`JournaledBuilder`]
//! and [`JournaledTester`] brings it back to where it stopped, and only the
//! requests the journal cannot answer reach the real builder and tester.
//!
//! Layout: `lock`, `journal.jsonl`, `artifacts/<commit>/<config_hash>/`,
//! `worktree/` (the builder's), `bisect.log` and `result.json` (the binary's).

mod journal;
mod journaled;
mod lock;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use journal::{
    Contents, Entry, FAULT_ENV, Header, JOURNAL_VERSION, JobIdentity, Journal, read,
};
pub use journaled::{JournaledBuilder, JournaledTester};
pub use lock::{WorkDirLock, holder};

use crate::model::{BuildOutcome, RunResult};

/// Journal file name inside the work dir.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// Where the process groups of builds and runs in flight are recorded.
pub const RUNNING_DIR: &str = "running";

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("work dir {} is in use by {}", dir.display(), pid.map_or("another process".to_string(), |p| format!("pid {p}")))]
    Locked { dir: PathBuf, pid: Option<u32> },
    #[error("work dir {} is not writable: {source}", dir.display())]
    NotWritable {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("journal {} belongs to another job ({diff} differ); use another work dir", path.display())]
    OtherJob { path: PathBuf, diff: String },
    #[error("journal {} is corrupt at line {line}: {msg}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        msg: String,
    },
    #[error("journal {} has format version {version}, this kbisect reads up to {JOURNAL_VERSION}", path.display())]
    Version { path: PathBuf, version: u32 },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write journal {}: {source}", path.display())]
    JournalWrite {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl SessionError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        SessionError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Key of a recorded build: (commit, config hash).
pub type BuildKey = (String, String);
/// Key of a recorded run: (commit, config hash, occurrence, run index).
pub type RunKey = (String, String, usize, usize);

/// Outcomes recorded in the journal (replayed, then extended as work happens).
#[derive(Debug, Default)]
pub struct Recorded {
    pub builds: BTreeMap<BuildKey, BuildOutcome>,
    pub runs: BTreeMap<RunKey, RunResult>,
}

/// How much of the work was answered from the journal.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SessionStats {
    pub replayed_entries: usize,
    pub builds_replayed: usize,
    pub builds_done: usize,
    pub runs_replayed: usize,
    pub runs_done: usize,
}

impl Drop for Session {
    fn drop(&mut self) {
        // The work dir may be removed next (the demo does).
        kbisect_proc::stop_tracking_groups();
    }
}

/// An open work dir. Holds the lock until dropped.
#[derive(Debug)]
pub struct Session {
    dir: PathBuf,
    _lock: WorkDirLock,
    journal: Mutex<Journal>,
    recorded: Mutex<Recorded>,
    journal_error: Mutex<Option<String>>,
    replayed_entries: usize,
    /// Process groups a killed predecessor left running, ended on open.
    leftover_groups: usize,
    builds_replayed: AtomicUsize,
    builds_done: AtomicUsize,
    runs_replayed: AtomicUsize,
    runs_done: AtomicUsize,
    opened: Instant,
    first_new_action: OnceLock<Duration>,
}

impl Session {
    /// Creates or reopens the work dir of the job `identity`: takes the lock,
    /// reads the journal (refusing another job's), and readies it for appends.
    pub fn open(workdir: &Path, identity: &JobIdentity) -> Result<Session, SessionError> {
        let opened = Instant::now();
        std::fs::create_dir_all(workdir).map_err(|source| SessionError::NotWritable {
            dir: workdir.to_path_buf(),
            source,
        })?;
        let dir = workdir
            .canonicalize()
            .map_err(|e| SessionError::io(workdir, e))?;
        let lock = lock::lock(&dir)?;
        // Holding the lock: whatever groups are recorded belong to a dead
        // predecessor (killed with SIGKILL mid-build or mid-run). End them
        // before they race with this run in the worktree.
        let running = dir.join(RUNNING_DIR);
        let leftover_groups =
            kbisect_proc::track_groups_in(&running).map_err(|e| SessionError::io(&running, e))?;
        let (journal, entries) = Journal::open(&dir.join(JOURNAL_FILE), identity)?;
        let mut rec = Recorded::default();
        let replayed_entries = entries.len();
        for e in entries {
            match e {
                Entry::Build {
                    commit,
                    config_hash,
                    outcome,
                } => {
                    rec.builds.insert((commit, config_hash), outcome);
                }
                Entry::Run {
                    commit,
                    config_hash,
                    occurrence,
                    index,
                    result,
                } => {
                    rec.runs
                        .insert((commit, config_hash, occurrence, index), result);
                }
            }
        }
        Ok(Session {
            dir,
            _lock: lock,
            journal: Mutex::new(journal),
            recorded: Mutex::new(rec),
            journal_error: Mutex::new(None),
            replayed_entries,
            leftover_groups,
            builds_replayed: AtomicUsize::new(0),
            builds_done: AtomicUsize::new(0),
            runs_replayed: AtomicUsize::new(0),
            runs_done: AtomicUsize::new(0),
            opened,
            first_new_action: OnceLock::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the build of (commit, config) keeps its artifact and run logs.
    pub fn artifacts_dir(&self, commit: &str, config_hash: &str) -> PathBuf {
        artifacts_dir(&self.dir, commit, config_hash)
    }

    /// Whether the journal held anything when the session was opened.
    pub fn is_resume(&self) -> bool {
        self.replayed_entries > 0
    }

    /// The first journal write failure, if any (the bisection stopped on it).
    pub fn journal_error(&self) -> Option<String> {
        self.journal_error.lock().ok().and_then(|g| g.clone())
    }

    pub fn stats(&self) -> SessionStats {
        SessionStats {
            replayed_entries: self.replayed_entries,
            builds_replayed: self.builds_replayed.load(Ordering::SeqCst),
            builds_done: self.builds_done.load(Ordering::SeqCst),
            runs_replayed: self.runs_replayed.load(Ordering::SeqCst),
            runs_done: self.runs_done.load(Ordering::SeqCst),
        }
    }

    /// Appends an entry; a failure is remembered (see [`Session::journal_error`]).
    pub fn append(&self, e: &Entry) -> Result<(), SessionError> {
        let res = match self.journal.lock() {
            Ok(mut j) => j.append(e),
            Err(_) => Err(SessionError::JournalWrite {
                path: self.dir.join(JOURNAL_FILE),
                source: std::io::Error::other("journal lock poisoned"),
            }),
        };
        if let Err(err) = &res
            && let Ok(mut g) = self.journal_error.lock()
            && g.is_none()
        {
            *g = Some(err.to_string());
        }
        res
    }

    pub(crate) fn recorded_build(&self, key: &BuildKey) -> Option<BuildOutcome> {
        self.recorded
            .lock()
            .ok()
            .and_then(|r| r.builds.get(key).cloned())
    }

    pub(crate) fn recorded_run(&self, key: &RunKey) -> Option<RunResult> {
        self.recorded
            .lock()
            .ok()
            .and_then(|r| r.runs.get(key).cloned())
    }

    /// Records a finished build durably, then remembers it.
    pub(crate) fn record_build(
        &self,
        key: BuildKey,
        outcome: &BuildOutcome,
    ) -> Result<(), SessionError> {
        self.append(&Entry::Build {
            commit: key.0.clone(),
            config_hash: key.1.clone(),
            outcome: outcome.clone(),
        })?;
        self.builds_done.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut r) = self.recorded.lock() {
            r.builds.insert(key, outcome.clone());
        }
        Ok(())
    }

    /// Records a finished run durably, then remembers it.
    pub(crate) fn record_run(&self, key: RunKey, result: &RunResult) -> Result<(), SessionError> {
        self.append(&Entry::Run {
            commit: key.0.clone(),
            config_hash: key.1.clone(),
            occurrence: key.2,
            index: key.3,
            result: result.clone(),
        })?;
        self.runs_done.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut r) = self.recorded.lock() {
            r.runs.insert(key, result.clone());
        }
        Ok(())
    }

    /// Time from opening the session to the first build or run the journal
    /// could not answer (the cost of replaying it).
    pub fn first_new_action(&self) -> Option<Duration> {
        self.first_new_action.get().copied()
    }

    /// How many process groups a killed predecessor left running (ended).
    pub fn leftover_groups(&self) -> usize {
        self.leftover_groups
    }

    pub(crate) fn mark_new_action(&self) {
        let _ = self.first_new_action.set(self.opened.elapsed());
    }

    pub(crate) fn count_replayed_build(&self) {
        self.builds_replayed.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn count_replayed_run(&self) {
        self.runs_replayed.fetch_add(1, Ordering::SeqCst);
    }
}

/// `<workdir>/artifacts/<commit>/<config_hash>`.
pub fn artifacts_dir(workdir: &Path, commit: &str, config_hash: &str) -> PathBuf {
    workdir.join("artifacts").join(commit).join(config_hash)
}
