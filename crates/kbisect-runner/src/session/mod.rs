//! A bisection's work dir: the lock, the journal, the artifacts, and the
//! journaling wrappers that make a killed bisection resumable.
//!
//! Resume is memoization at the seams: the engine is deterministic, so
//! replaying the recorded build and run outcomes through [`JournaledBuilder`]
//! and [`JournaledTester`] brings it back to where it stopped, and only the
//! requests the journal cannot answer reach the real builder and tester.
//!
//! Layout (the only place that knows it): `lock`, `journal.jsonl`,
//! `running/` (process groups in flight), `artifacts/<commit>/<config>/`,
//! `worktree/` (the builder's; `worktree-<i>/` for its other build slots),
//! `bisect.log` and `result.json`.

mod journal;
mod journaled;
mod lock;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use journal::{
    Contents, Entry, Header, Identity, JOURNAL_VERSION, Journal, Stage, differences, read,
};
pub use journaled::{JournaledBuilder, JournaledTester, MAX_RUN_RETRIES};
pub use lock::{WorkDirLock, holder};

use kbisect_core::{BuildOutcome, RunResult};

/// Journal file name inside the work dir.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// Where the process groups of builds and runs in flight are recorded.
pub const RUNNING_DIR: &str = "running";
/// The builder's worktree inside the work dir.
pub const WORKTREE_DIR: &str = "worktree";
/// Build artifacts and run logs.
pub const ARTIFACTS_DIR: &str = "artifacts";
/// The syzbot-format log.
pub const LOG_FILE: &str = "bisect.log";
/// The result for programs.
pub const RESULT_FILE: &str = "result.json";

/// The builder's worktrees in the work dir `dir`: `worktree/` (first,
/// whether it exists or not) and the other build slots' that exist, found
/// by name: a bisection resumed with fewer slots left the rest behind.
pub fn worktree_dirs(dir: &Path) -> Vec<PathBuf> {
    let base = dir.join(WORKTREE_DIR);
    let mut all = kbisect_build::extra_slot_worktrees(&base);
    all.insert(0, base);
    all
}

/// Why a work dir cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Another kbisect holds the lock.
    #[error("work dir {} is in use by {}", dir.display(), pid.map_or("another process".to_string(), |p| format!("pid {p}")))]
    Locked {
        /// The work dir.
        dir: PathBuf,
        /// The holder, when known.
        pid: Option<u32>,
    },
    /// The work dir cannot be created or written.
    #[error("work dir {} is not writable", dir.display())]
    NotWritable {
        /// The work dir.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The journal belongs to another job.
    #[error(
        "the work dir {} holds another job (different: {}); run with --fresh to start over (the old work dir is kept aside) or give another --workdir",
        path.parent().map_or_else(|| path.display().to_string(), |p| p.display().to_string()),
        diff.join(", ")
    )]
    OtherJob {
        /// The journal.
        path: PathBuf,
        /// The keys whose values differ.
        diff: Vec<String>,
    },
    /// A line in the middle of the journal does not parse.
    #[error("journal {} is corrupt at line {line}: {msg}", path.display())]
    Corrupt {
        /// The journal.
        path: PathBuf,
        /// The line number (1-based).
        line: usize,
        /// What is wrong with it.
        msg: String,
    },
    /// The journal was written by another version of kbisect.
    #[error(
        "journal {} has format version {version}, this kbisect reads version {JOURNAL_VERSION}; run with --fresh to start over (the old work dir is kept aside)",
        path.display()
    )]
    Version {
        /// The journal.
        path: PathBuf,
        /// Its version.
        version: u32,
    },
    /// Reading or writing a work dir file failed.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Appending to the journal failed (disk full, I/O error).
    #[error("cannot write journal {}", path.display())]
    JournalWrite {
        /// The journal.
        path: PathBuf,
        /// Why.
        #[source]
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
    /// Permanent build outcomes.
    pub builds: BTreeMap<BuildKey, BuildOutcome>,
    /// Permanent run results.
    pub runs: BTreeMap<RunKey, RunResult>,
    /// Transient build failures, oldest first.
    pub transient_builds: BTreeMap<BuildKey, Vec<String>>,
    /// Runs lost to the infrastructure, oldest first.
    pub transient_runs: BTreeMap<RunKey, Vec<RunResult>>,
}

impl Recorded {
    fn add(&mut self, e: Entry) {
        match e {
            Entry::Build {
                commit,
                config_hash,
                outcome,
            } => {
                self.builds.insert((commit, config_hash), outcome);
            }
            Entry::Run {
                commit,
                config_hash,
                occurrence,
                index,
                result,
            } => {
                self.runs
                    .insert((commit, config_hash, occurrence, index), result);
            }
            Entry::Transient {
                commit,
                config_hash,
                stage,
                error,
                result,
            } => match stage {
                Stage::Build => self
                    .transient_builds
                    .entry((commit, config_hash))
                    .or_default()
                    .push(error),
                Stage::Run { occurrence, index } => {
                    if let Some(r) = result {
                        self.transient_runs
                            .entry((commit, config_hash, occurrence, index))
                            .or_default()
                            .push(r);
                    }
                }
            },
        }
    }
}

/// How much of the work was answered from the journal.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SessionStats {
    /// Journal entries found on open.
    pub replayed_entries: usize,
    /// Builds answered from the journal.
    pub builds_replayed: usize,
    /// Builds made.
    pub builds_done: usize,
    /// Runs answered from the journal.
    pub runs_replayed: usize,
    /// Runs made.
    pub runs_done: usize,
    /// Builds and runs made again because they had failed for environment reasons.
    pub transient_retried: usize,
}

/// An open work dir. Holds the lock until dropped.
#[derive(Debug)]
pub struct Session {
    dir: PathBuf,
    _lock: WorkDirLock,
    journal: Mutex<Journal>,
    header: Header,
    recorded: Mutex<Recorded>,
    journal_error: Mutex<Option<String>>,
    replayed_entries: usize,
    /// Process groups a killed predecessor left running, ended on open.
    leftover_groups: usize,
    builds_replayed: AtomicUsize,
    builds_done: AtomicUsize,
    runs_replayed: AtomicUsize,
    runs_done: AtomicUsize,
    transient_retried: AtomicUsize,
    opened: Instant,
    first_new_action: OnceLock<Duration>,
}

impl Session {
    /// Creates or reopens the work dir of the job `header` describes: takes
    /// the lock, ends what a killed predecessor left running, reads the
    /// journal (refusing another job's), and readies it for appends.
    pub fn open(workdir: &Path, header: Header) -> Result<Session, SessionError> {
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
            kbisect_proc::end_leftovers(&running).map_err(|e| SessionError::io(&running, e))?;
        let opened_journal = Journal::open(&dir.join(JOURNAL_FILE), header)?;
        let mut rec = Recorded::default();
        let replayed_entries = opened_journal.entries.len();
        for e in opened_journal.entries {
            rec.add(e);
        }
        Ok(Session {
            dir,
            _lock: lock,
            journal: Mutex::new(opened_journal.journal),
            header: opened_journal.header,
            recorded: Mutex::new(rec),
            journal_error: Mutex::new(None),
            replayed_entries,
            leftover_groups,
            builds_replayed: AtomicUsize::new(0),
            builds_done: AtomicUsize::new(0),
            runs_replayed: AtomicUsize::new(0),
            runs_done: AtomicUsize::new(0),
            transient_retried: AtomicUsize::new(0),
            opened,
            first_new_action: OnceLock::new(),
        })
    }

    /// The work dir (canonical).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The journal's header (the one found when resuming).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Where builds keep their artifacts and run logs.
    pub fn artifacts_dir(&self) -> PathBuf {
        self.dir.join(ARTIFACTS_DIR)
    }

    /// Where the process groups of builds and runs in flight are recorded
    /// (give it to [`kbisect_proc::CancelToken::recording_groups_in`]).
    pub fn running_dir(&self) -> PathBuf {
        self.dir.join(RUNNING_DIR)
    }

    /// The builder's worktree.
    pub fn worktree_dir(&self) -> PathBuf {
        self.dir.join(WORKTREE_DIR)
    }

    /// The builder's worktree and those of its other build slots that
    /// exist (see [`worktree_dirs`]).
    pub fn worktree_dirs(&self) -> Vec<PathBuf> {
        worktree_dirs(&self.dir)
    }

    /// Whether the journal held anything when the session was opened.
    pub fn is_resume(&self) -> bool {
        self.replayed_entries > 0
    }

    /// (builds, runs) recorded when the session was opened.
    pub fn recorded_counts(&self) -> (usize, usize) {
        self.recorded
            .lock()
            .map(|r| (r.builds.len(), r.runs.len()))
            .unwrap_or_default()
    }

    /// The first journal write failure, if any (the bisection stopped on it).
    pub fn journal_error(&self) -> Option<String> {
        self.journal_error.lock().ok().and_then(|g| g.clone())
    }

    /// How much was replayed and how much done.
    pub fn stats(&self) -> SessionStats {
        SessionStats {
            replayed_entries: self.replayed_entries,
            builds_replayed: self.builds_replayed.load(Ordering::SeqCst),
            builds_done: self.builds_done.load(Ordering::SeqCst),
            runs_replayed: self.runs_replayed.load(Ordering::SeqCst),
            runs_done: self.runs_done.load(Ordering::SeqCst),
            transient_retried: self.transient_retried.load(Ordering::SeqCst),
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
            let cause = std::error::Error::source(err)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            *g = Some(format!("{err}{cause}"));
        }
        if res.is_ok()
            && let Ok(mut r) = self.recorded.lock()
        {
            r.add(e.clone());
        }
        res
    }

    fn with_recorded<T>(&self, f: impl FnOnce(&Recorded) -> T) -> Option<T> {
        self.recorded.lock().ok().map(|r| f(&r))
    }

    /// A path in the journal: relative to the work dir when it is inside,
    /// so a moved work dir keeps its artifacts.
    pub(crate) fn relative(&self, p: &Path) -> PathBuf {
        p.strip_prefix(&self.dir)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| p.to_path_buf())
    }

    /// A path from the journal, made absolute again.
    pub(crate) fn absolute(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
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

    pub(crate) fn count(&self, what: Counter) {
        let c = match what {
            Counter::BuildReplayed => &self.builds_replayed,
            Counter::BuildDone => &self.builds_done,
            Counter::RunReplayed => &self.runs_replayed,
            Counter::RunDone => &self.runs_done,
            Counter::Retried => &self.transient_retried,
        };
        c.fetch_add(1, Ordering::SeqCst);
    }
}

/// What [`Session::count`] counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    BuildReplayed,
    BuildDone,
    RunReplayed,
    RunDone,
    Retried,
}
