//! Reports people read, from a work dir alone: the journal's header holds
//! the job, the journal the builds and runs; [`load`] re-runs the engine
//! over them with replay-only adapters (nothing is built or run), and the
//! renderers turn what it found into the syzbot-format log plus a summary
//! ([`text`]), `result.json` ([`json`]), a syzbot-style e-mail
//! ([`email::render`]) and one self-contained HTML page ([`html::render`]).
//!
//! Re-judging: another strategy or confidence target replays the same
//! evidence (each revision's recorded runs, in order, to whatever asks);
//! where it wants evidence the journal does not hold, the replay stops and
//! the report says it is partial.

mod charts;
mod facts;
mod job_view;
mod replay;
mod svg;
mod text;
mod timeline;

pub mod email;
pub mod html;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use kbisect_core::{BisectResult, Commit, Engine, EngineError, Event, StrategyKind, Vcs};
use kbisect_git::{GitError, Repo};

use crate::GitVcs;
use crate::kind::ErrorKind;
use crate::render_log::Dialect;
use crate::session::{self, JOURNAL_FILE, JOURNAL_VERSION, SessionError};

pub use facts::{Flag, VerifyLine, unrelated_crashes};
pub use job_view::{FileView, JobView};
pub use replay::{NotRecorded, ServedRun};
pub use text::{json, text};
pub use timeline::{RangeStep, Role, Round, Row, Timeline};

/// How to re-judge: `None` keeps what the bisection ran with.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Another strategy.
    pub strategy: Option<StrategyKind>,
    /// Another confidence target (strategies that keep one).
    pub confidence: Option<f64>,
}

/// Why a work dir cannot be reported on.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No journal: not a work dir, or a bisection that never started.
    #[error("no bisection in {} (no {JOURNAL_FILE})", dir.display())]
    NoJournal {
        /// The directory given.
        dir: PathBuf,
    },
    /// The journal has no complete first line.
    #[error(
        "journal {} has no header: the bisection never started, or the file was cut in its first line",
        path.display()
    )]
    NoHeader {
        /// The journal.
        path: PathBuf,
    },
    /// A newer kbisect wrote the journal.
    #[error(
        "journal {} was written by a newer kbisect (format version {version}; this one reads version {JOURNAL_VERSION}): render it with that kbisect",
        path.display()
    )]
    NewerJournal {
        /// The journal.
        path: PathBuf,
        /// Its format version.
        version: u32,
    },
    /// An older kbisect wrote the journal.
    #[error(
        "journal {} was written by an older kbisect (format version {version}; this one reads version {JOURNAL_VERSION}): it cannot be replayed",
        path.display()
    )]
    OlderJournal {
        /// The journal.
        path: PathBuf,
        /// Its format version.
        version: u32,
    },
    /// The header does not record the job.
    #[error("journal {} does not record its job: it cannot be replayed", path.display())]
    NoJob {
        /// The journal.
        path: PathBuf,
    },
    /// The recorded job cannot be understood.
    #[error("journal {}: the recorded job cannot be read: {msg}", path.display())]
    BadJob {
        /// The journal.
        path: PathBuf,
        /// Why.
        msg: String,
    },
    /// The journal cannot be read, or a line in its middle is corrupt.
    #[error(transparent)]
    Journal(SessionError),
    /// The repository the bisection ran on cannot be opened.
    #[error("cannot open the repository {} the bisection ran on", repo.display())]
    Repo {
        /// The repository.
        repo: PathBuf,
        /// Why.
        #[source]
        source: GitError,
    },
}

impl ReportError {
    /// The kind of failure (for exit codes).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ReportError::Repo { .. } => ErrorKind::NotARepo,
            _ => ErrorKind::WorkDir,
        }
    }
}

/// How the replayed bisection ended.
#[derive(Debug)]
pub enum Outcome {
    /// A result (culprit, inconclusive, horizon, unsure).
    Finished(Box<BisectResult>),
    /// The bisection ended in an error (the crash did not reproduce, ...).
    Failed(EngineError),
    /// The journal ends before the bisection does (interrupted, cut short,
    /// or a re-judging strategy wanted evidence never gathered).
    Partial(NotRecorded),
}

/// A replayed bisection, ready to render.
#[derive(Debug)]
pub struct Report {
    /// The work dir (canonical).
    pub workdir: PathBuf,
    /// The recorded job.
    pub job: JobView,
    /// The strategy the bisection ran with.
    pub ran_with: StrategyKind,
    /// The strategy of this report.
    pub strategy: StrategyKind,
    /// The confidence target of this report.
    pub confidence_target: f64,
    /// Another strategy or confidence target than the bisection's.
    pub rejudged: bool,
    /// The start commit.
    pub start: Option<Commit>,
    /// How it ended.
    pub outcome: Outcome,
    /// Every event of the replay, in order (times as recorded).
    pub events: Vec<Event>,
    /// The revisions tested.
    pub timeline: Timeline,
    /// Indices of `timeline.rows` in history order.
    pub history: Vec<usize>,
    /// The culprit's (or first candidate's) diffstat.
    pub diffstat: Option<String>,
    /// The words of the job's builder.
    pub dialect: Dialect,
    /// The journal's last line was cut short (and ignored).
    pub torn: bool,
    /// The job's config file no longer holds what was bisected with.
    pub config_changed: bool,
    /// Builds and runs the journal holds.
    pub recorded: (usize, usize),
    /// Runs the replay used.
    pub runs_used: usize,
    /// Time spent building (recorded).
    pub build_time: Duration,
    /// Time spent testing (estimated from the recorded runs' durations).
    pub test_time: Duration,
}

impl Report {
    /// The result, when the bisection reached one.
    pub fn result(&self) -> Option<&BisectResult> {
        match &self.outcome {
            Outcome::Finished(r) => Some(r),
            _ => None,
        }
    }

    /// The journal ends before the bisection does.
    pub fn is_partial(&self) -> bool {
        matches!(self.outcome, Outcome::Partial(_))
    }

    /// A path in the work dir.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.workdir.join(rel)
    }

    /// Fix bisection.
    pub fn fix(&self) -> bool {
        self.job.fix
    }
}

fn read_journal(dir: &Path) -> Result<(PathBuf, session::Contents), ReportError> {
    let path = dir.join(JOURNAL_FILE);
    if !path.is_file() {
        return Err(ReportError::NoJournal {
            dir: dir.to_path_buf(),
        });
    }
    let contents = session::read(&path).map_err(|e| match e {
        SessionError::Version { path, version } if version > JOURNAL_VERSION => {
            ReportError::NewerJournal { path, version }
        }
        SessionError::Version { path, version } => ReportError::OlderJournal { path, version },
        e => ReportError::Journal(e),
    })?;
    Ok((path, contents))
}

/// Replays the bisection in `workdir` (nothing is built, run or written).
pub fn load(workdir: &Path, opts: &ReportOptions) -> Result<Report, ReportError> {
    let (journal, contents) = read_journal(workdir)?;
    let header = contents.header.ok_or_else(|| ReportError::NoHeader {
        path: journal.clone(),
    })?;
    let job = JobView::from_header(&journal, &header.job)?;
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let repo = Repo::open(&job.repo).map_err(|source| ReportError::Repo {
        repo: job.repo.clone(),
        source,
    })?;
    let vcs =
        replay::ReadOnlyVcs::new(GitVcs::new(repo, &job.branch).with_scheme(job.scheme(&journal)?));
    let start = header.start_commit.clone().unwrap_or(job.start.clone());
    let config = job.config_bytes();
    let config_changed = config.is_none();
    let config = config.unwrap_or_default();
    let alias = replay::ConfigAlias {
        requested: config.hash(),
        recorded: job.recorded_config_hash(),
    };
    let mut cfg = job.engine_config(
        &journal,
        start.clone(),
        config,
        workdir.join(session::ARTIFACTS_DIR),
    )?;
    let ran_with = cfg.strategy;
    if let Some(s) = opts.strategy {
        cfg.strategy = s;
    }
    if let Some(c) = opts.confidence {
        cfg.confidence = c;
    }
    let (strategy, confidence_target) = (cfg.strategy, cfg.confidence);
    let recording = replay::Recording::from_entries(contents.entries);
    let recorded = (recording.build_count(), recording.run_count());
    let state = Rc::new(RefCell::new(recording));
    let mut builder = replay::ReplayBuilder::new(
        state.clone(),
        alias.clone(),
        job.is_kernel(),
        workdir.clone(),
    )
    .with_build_slots(job.build.slots.unwrap_or(1));
    let mut tester = replay::ReplayTester::new(state.clone(), alias, job.parallel);
    let mut events: Vec<Event> = Vec::new();
    let res = {
        let mut sink = |e: &Event| events.push(e.clone());
        Engine::new(cfg, &vcs, &mut builder, &mut tester, &mut sink).run()
    };
    let (stopped, served, test_time) = {
        let mut s = state.borrow_mut();
        (s.stopped.take(), std::mem::take(&mut s.served), s.test_time)
    };
    let mut build_time = Duration::ZERO;
    for e in &mut events {
        // The replay takes no time: the totals are the recorded ones.
        if let Event::Totals {
            total, build, test, ..
        } = e
        {
            build_time = *build;
            *test = test_time;
            *total = *build + test_time;
        }
    }
    let outcome = match (stopped, res) {
        (Some(nr), _) => Outcome::Partial(nr),
        (None, Ok(mut r)) => {
            r.test_time = test_time;
            r.total_time = r.build_time + test_time;
            Outcome::Finished(Box::new(r))
        }
        (None, Err(e)) => Outcome::Failed(e),
    };
    let timeline = Timeline::from_events(&events, &served);
    let outcome = match outcome {
        Outcome::Finished(mut r) => {
            for ev in &mut r.evidence {
                if let Some(row) = timeline.row(&ev.commit) {
                    ev.test_time = row.test_time(job.parallel);
                }
            }
            Outcome::Finished(r)
        }
        o => o,
    };
    let history = timeline.history_order(&vcs);
    let diffstat = events
        .iter()
        .find_map(|e| match e {
            Event::FirstBad { diffstat, .. } => Some(diffstat.clone()),
            _ => None,
        })
        .or_else(|| {
            let r = match &outcome {
                Outcome::Finished(r) => r,
                _ => return None,
            };
            r.commits.first().and_then(|c| vcs.diffstat(&c.id).ok())
        });
    let start_commit = vcs
        .resolve(&start)
        .ok()
        .flatten()
        .and_then(|id| vcs.commit(&id).ok());
    Ok(Report {
        workdir,
        dialect: if job.is_kernel() {
            Dialect::Kernel
        } else {
            Dialect::Generic
        },
        rejudged: strategy != ran_with || opts.confidence.is_some(),
        job,
        ran_with,
        strategy,
        confidence_target,
        start: start_commit,
        outcome,
        events,
        history,
        timeline,
        diffstat,
        torn: contents.torn,
        config_changed,
        recorded,
        runs_used: served.len(),
        build_time,
        test_time,
    })
}
