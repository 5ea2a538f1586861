//! What the engine tells the world while it works, as typed events. The
//! renderers (syzbot's log, progress, e-mail, HTML) own every word; the
//! engine never formats a line. The journal does not depend on events (it
//! records builds and runs).

use std::time::Duration;

use kbisect_crash::CrashType;
use kbisect_git::{Commit, CommitId};

use crate::model::{ArtifactSignature, RunResult, Verdict};
use crate::result::{Candidate, RevertCheck, Verification};

/// How one run reads in the per-revision summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunLine {
    /// Nothing crashed.
    Ok,
    /// A crash that counts (`crashed: TITLE`).
    Crashed {
        /// The crash title.
        title: String,
        /// The output line a crash pattern matched, when one did.
        matched: Option<String>,
    },
    /// A crash set aside as infrastructure noise (`ignore: TITLE`).
    Ignored {
        /// The crash title.
        title: String,
    },
    /// The machine did not come up.
    BootFailed {
        /// Why.
        reason: String,
    },
    /// The basic test (or the test itself, without a crash) failed.
    TestFailed {
        /// Why.
        reason: String,
    },
    /// Lost to the infrastructure.
    Infra {
        /// Why.
        reason: String,
    },
}

/// Why the fix-bisection guard decided what it did about a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardStep {
    /// `determine whether the revision contains the guilty commit`.
    Checking,
    /// `revision H crashed and is reachable`.
    CrashedAncestor {
        /// The crashing ancestor.
        commit: CommitId,
    },
    /// `checking the merge base H`.
    MergeBase {
        /// The merge base.
        commit: CommitId,
    },
    /// `no existing result, test the revision`.
    TestingMergeBase,
    /// `the bug was not introduced yet; pretend that kernel crashed`.
    NotIntroducedYet,
    /// `unable to determine whether there was a bug; skip the revision`.
    CannotTell,
}

/// Something the engine did or found, in the order it happened.
#[derive(Debug, Clone)]
pub enum Event {
    /// `bisecting cause commit starting from H` / `bisecting fixing commit since H`.
    Started {
        /// Fix bisection.
        fix: bool,
        /// The start commit as given.
        given: String,
        /// Its hash, when the given name was a ref (`HEAD`, a tag).
        resolved: Option<CommitId>,
        /// The strategy's name.
        strategy: &'static str,
    },
    /// `rewritten commit H reidentified by title 'T'`.
    Reidentified {
        /// The commit found.
        commit: CommitId,
        /// The title it was found by.
        title: String,
    },
    /// `fetch other tags and check if the commit is present`.
    FetchingStart,
    /// `ensuring issue is reproducible on original commit H`.
    ReproducingStart {
        /// The start commit.
        commit: CommitId,
    },
    /// `picked [tags] out of N release tags`.
    ReleasesPicked {
        /// The tags to test, newest first.
        picked: Vec<String>,
        /// How many usable tags there were.
        total: usize,
    },
    /// `testing release vX.Y`.
    TestingRelease {
        /// The tag.
        tag: String,
    },
    /// `testing known-good commit H`.
    TestingKnownGood {
        /// The commit.
        commit: CommitId,
    },
    /// `determining the merge base between H and H`.
    FindingMergeBase {
        /// The start commit.
        start: CommitId,
        /// HEAD of the branch.
        head: CommitId,
    },
    /// `H/T is a merge base, check if it has the bug`.
    CheckingMergeBase {
        /// The merge base.
        commit: CommitId,
        /// Its title.
        title: String,
    },
    /// `testing current HEAD H`.
    TestingHead {
        /// HEAD of the branch.
        commit: CommitId,
    },
    /// The range phase ended the bisection (horizon results).
    RangeEnded {
        /// Why.
        why: RangeEnd,
    },
    /// `testing commit H with COMPILER` (before the build starts).
    TestingCommit {
        /// The revision.
        commit: CommitId,
        /// Its title.
        title: String,
        /// The compiler identity, when the builder names one.
        compiler: Option<String>,
    },
    /// The build finished: its signature, or its error.
    Built {
        /// The revision.
        commit: CommitId,
        /// The artifact's signature, when it built and has one.
        signature: Option<ArtifactSignature>,
        /// The build error's title, when it failed.
        error: Option<String>,
        /// How long it took.
        duration: Duration,
    },
    /// Runs are starting.
    RunsStarted {
        /// The revision.
        commit: CommitId,
        /// How many runs.
        runs: usize,
    },
    /// One run finished (progress only; the summary is `RunsSummary`).
    RunFinished {
        /// The revision.
        commit: CommitId,
        /// The run's index.
        index: usize,
        /// Its result.
        result: RunResult,
    },
    /// `all runs: X` or one `run #i: X` line per run.
    RunsSummary {
        /// The revision.
        commit: CommitId,
        /// Every run, in index order.
        runs: Vec<RunLine>,
    },
    /// `representative crash: T, types: [..]`.
    Representative {
        /// The representative crash's title.
        title: String,
        /// The crash types it stands for.
        types: Vec<CrashType>,
    },
    /// `unable to determine the verdict: ...` (a skip from too few usable runs).
    Undetermined {
        /// Good runs seen.
        good: usize,
        /// Good runs wanted for a good verdict.
        want_good: usize,
        /// Usable runs wanted for a bad verdict.
        want_total: usize,
        /// Usable runs seen.
        usable: usize,
    },
    /// The verdict on a revision, in crash terms; `false negative chance:
    /// X` for a good one.
    Verdict {
        /// The revision.
        commit: CommitId,
        /// The verdict.
        verdict: Verdict,
        /// Chance that a good verdict is wrong.
        false_negative: Option<f64>,
    },
    /// The fix-bisection guard's reasoning about one revision.
    Guard {
        /// What it did or found.
        step: GuardStep,
    },
    /// `# git bisect start BAD GOOD...`.
    BisectStart {
        /// The bad end.
        bad: CommitId,
        /// The good ends.
        goods: Vec<CommitId>,
    },
    /// `# git bisect good|bad|skip H`, in git bisect's terms (fix bisection inverted).
    BisectMark {
        /// The term.
        term: Verdict,
        /// The revision.
        commit: CommitId,
    },
    /// `Bisecting: N revisions left to test after this (roughly K steps)` and `[H] title`.
    BisectNext {
        /// Candidates left.
        left: usize,
        /// Steps left, roughly.
        steps: usize,
        /// The revision to test next.
        commit: CommitId,
        /// Its title.
        title: String,
    },
    /// `H is the first bad commit` + the commit's header, message and diffstat.
    FirstBad {
        /// The culprit.
        commit: Box<Commit>,
        /// Its diffstat.
        diffstat: String,
    },
    /// `There are only 'skip'ped commits left to test.` and the candidates.
    OnlySkippedLeft {
        /// The candidates.
        candidates: Vec<CommitId>,
    },
    /// `accumulated error probability: X`.
    ErrorProbability {
        /// 1 − confidence.
        probability: f64,
    },
    /// The culprit's release flag could not be computed.
    ReleaseCheckFailed {
        /// Why.
        error: String,
    },
    /// `parent commit H wasn't tested` (built for the no-op check).
    ParentNotTested {
        /// The parent.
        parent: CommitId,
    },
    /// `failed to detect noop change: the parent did not build`.
    NoopUndetermined,
    /// `culprit signature: S` / `parent  signature: S`.
    Signatures {
        /// The culprit's signature.
        culprit: ArtifactSignature,
        /// Its parent's signature.
        parent: ArtifactSignature,
    },
    /// A strategy judged a revision on its own runs (range ends, the start
    /// commit): `P(H has the bug | its own runs) = X (C/N runs crashed)`.
    Judged {
        /// The revision.
        commit: CommitId,
        /// P(it has the bug | its own runs), from an even prior.
        has_bug: f64,
        /// Runs that showed the target crash.
        crashed: usize,
        /// Runs that counted.
        runs: usize,
    },
    /// A posterior search begins: `bayes: N commits between H and H, ...`.
    SearchStarted {
        /// The end containing every candidate (cause: the start commit;
        /// fix: the fixed end).
        head: CommitId,
        /// The clean ends.
        goods: Vec<CommitId>,
        /// Commits in the range.
        commits: usize,
        /// Revisions tested before the search whose runs are evidence in it.
        preloaded: usize,
        /// The posterior the culprit must reach.
        confidence: f64,
    },
    /// A commit the search will never build: it has its parent's binary.
    Folded {
        /// The commit.
        commit: CommitId,
        /// The commit whose binary it has (its first parent), or the
        /// revision built with the same signature.
        into: CommitId,
        /// Why.
        reason: FoldReason,
    },
    /// After a round of runs: P(the revision contains the culprit) for each
    /// revision run in it.
    Contains {
        /// The revision.
        commit: CommitId,
        /// Its posterior probability of containing the culprit.
        probability: f64,
        /// Runs on its binary so far that showed the target crash.
        crashed: usize,
        /// Runs on its binary so far that counted.
        runs: usize,
    },
    /// After a round: the best candidate, the runner-up, the estimates.
    Posterior {
        /// The most likely culprit.
        best: Candidate,
        /// The next most likely.
        runner_up: Option<Candidate>,
        /// Posterior mean of the repro chance.
        repro_chance: f64,
        /// Builds so far.
        builds: usize,
        /// Runs so far.
        runs: usize,
    },
    /// The culprit's verification, parent against culprit.
    Verified {
        /// The table.
        verification: Verification,
    },
    /// The start commit with the culprit reverted is about to be tested
    /// (`commit` is `None` when the revert does not apply).
    Reverting {
        /// The culprit.
        culprit: CommitId,
        /// The start commit.
        base: CommitId,
        /// The revert commit.
        commit: Option<CommitId>,
    },
    /// What the revert showed.
    RevertChecked {
        /// The check.
        check: RevertCheck,
    },
    /// `reproducer is flaky (P repro chance estimate)` and
    /// `revisions tested: N, total time: T (build: B, test: T)`.
    Totals {
        /// Revisions tested.
        revisions: usize,
        /// Wall time.
        total: Duration,
        /// Time spent building.
        build: Duration,
        /// Time spent testing.
        test: Duration,
        /// The repro chance estimate, when the reproducer is flaky.
        flaky: Option<f64>,
    },
}

/// Why a commit is folded into another's evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldReason {
    /// It changes no file that the builds used.
    FilesUnused,
    /// Its build has the same signature as an already tested one.
    SameSignature,
}

/// Why the range phase ended the bisection with a horizon result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeEnd {
    /// `reproducer does not crash the merge base, so there's no known bad commit`.
    MergeBaseClean,
    /// `crash still not fixed/happens on the oldest tested release`.
    StillCrashes,
    /// `HEAD had kernel build, boot or test errors`.
    HeadBroken,
}

/// Where events go. Closures `FnMut(&Event)` implement it.
pub trait EventSink {
    /// Receives one event.
    fn event(&mut self, e: &Event);
}

impl<F: FnMut(&Event)> EventSink for F {
    fn event(&mut self, e: &Event) {
        self(e)
    }
}
