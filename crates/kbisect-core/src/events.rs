//! What the engine tells the world while it works. The binary renders these
//! as syzbot's log lines and drives the progress display from them; the
//! journal does not depend on them (it records builds and runs).

use std::time::Duration;

use kbisect_git::{Commit, CommitId};
use kbisect_report::CrashType;

use crate::model::{KernelSignature, RunResult, Verdict};

#[derive(Debug, Clone)]
pub enum Event {
    /// `bisecting cause commit starting from H` / `bisecting fixing commit since H`.
    Started { fix: bool, commit: String },
    /// `rewritten commit H reidentified by title 'T'`.
    Reidentified { commit: CommitId, title: String },
    /// A free-form line of the log (phase notes such as
    /// `ensuring issue is reproducible on original commit H`).
    Note(String),
    /// `testing release vX.Y`.
    TestingRelease { tag: String },
    /// `testing commit H with COMPILER` (before the build starts).
    TestingCommit {
        commit: CommitId,
        title: String,
        compiler: String,
    },
    /// The build finished: `kernel signature: S`, or the build error line.
    Built {
        commit: CommitId,
        signature: Option<KernelSignature>,
        error: Option<String>,
        duration: Duration,
    },
    /// Runs are starting.
    RunsStarted { commit: CommitId, runs: usize },
    /// One run finished (progress only; the summary is `RunsSummary`).
    RunFinished {
        commit: CommitId,
        index: usize,
        result: RunResult,
    },
    /// `all runs: X` or one `run #i: X` line per run.
    RunsSummary { lines: Vec<String> },
    /// `representative crash: T, types: [..]`.
    Representative {
        title: String,
        types: Vec<CrashType>,
    },
    /// The verdict on a revision, in crash terms.
    Verdict {
        commit: CommitId,
        verdict: Verdict,
        false_negative: Option<f64>,
    },
    /// `# git bisect start BAD GOOD...`.
    BisectStart { bad: CommitId, goods: Vec<CommitId> },
    /// `# git bisect good|bad|skip H`, in git bisect's terms (fix bisection inverted).
    BisectMark { term: Verdict, commit: CommitId },
    /// `Bisecting: N revisions left to test after this (roughly K steps)` and `[H] title`.
    BisectNext {
        left: usize,
        steps: usize,
        commit: CommitId,
        title: String,
    },
    /// `H is the first bad commit` + the commit's header, message and diffstat.
    FirstBad {
        commit: Box<Commit>,
        diffstat: String,
    },
    /// `There are only 'skip'ped commits left to test.` and the candidates.
    OnlySkippedLeft { candidates: Vec<CommitId> },
    /// `culprit signature: S` / `parent  signature: S`.
    Signatures {
        culprit: KernelSignature,
        parent: KernelSignature,
    },
    /// `reproducer is flaky (P repro chance estimate)` and
    /// `revisions tested: N, total time: T (build: B, test: T)`.
    Totals {
        revisions: usize,
        total: Duration,
        build: Duration,
        test: Duration,
        flaky: Option<f64>,
    },
}

/// Where events go. `&mut dyn FnMut(&Event)` implements it.
pub trait EventSink {
    fn event(&mut self, e: &Event);
}

impl<F: FnMut(&Event)> EventSink for F {
    fn event(&mut self, e: &Event) {
        self(e)
    }
}
