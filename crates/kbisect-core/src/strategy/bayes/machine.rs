//! The search as a state machine the engine adapter drives: it asks for
//! builds and runs ([`Machine::next_action`]) and is told their outcomes
//! ([`Machine::built`], [`Machine::ran`]). It never touches git, processes
//! or files, and has no randomness: the same answers give the same
//! questions, so a resumed bisection replays its journal exactly.
//!
//! Phases: reproduce on the start commit (keep running it, bounded, until
//! the target crash shows) -> search (rounds of runs chosen by information
//! per cost) -> verify the best culprit (its own runs and its parents') ->
//! a culprit, an explicit "unsure" with the top candidates, or an error.

use std::collections::BTreeMap;

use super::decide::{Costs, NEW_BUILD_RUNS, PmfCache};
use super::graph::RangeDag;
use super::model::{Counts, ModelConfig, RunObs, counts_of, thetas};
use super::posterior::{BinId, Hyp, Posterior};

/// A revision the machine asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rev {
    /// A commit of the range (always one that can change the binary: the
    /// machine folds no-change commits into their parents itself).
    Commit(u32),
    /// The (first) parent of this commit that lies outside the range.
    OutsideParent(u32),
    /// A revision outside the range the caller tested before the search
    /// (a clean end, an older release), numbered by the caller.
    Outside(u32),
}

/// What a build gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildResult {
    /// Built; equal signatures mean equal binaries (`None`: no signature,
    /// a binary of its own).
    Built {
        /// The binary's signature.
        signature: Option<String>,
    },
    /// Built before (by the caller, for another revision or purpose): as
    /// `Built`, but it cost nothing now.
    Reused {
        /// The binary's signature.
        signature: Option<String>,
    },
    /// The build failed: no evidence, and never built again.
    Failed,
}

/// One job: build `rev` if asked, then make `runs` runs on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// The revision.
    pub rev: Rev,
    /// It is not built yet.
    pub build: bool,
    /// Runs to make (may be 0 for a build only).
    pub runs: usize,
}

/// What the machine wants next.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Do these jobs (at most one build, then all runs together), report
    /// each result, and ask again.
    Run(Vec<Job>),
    /// Tell, with [`Machine::describe`], whether this commit has parents
    /// outside the range (verification tests them), and ask again.
    Describe(u32),
    /// Finished.
    Done(Report),
}

/// The culprit's or a parent's line of the verification table.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifyRow {
    /// Culprit or parent.
    pub role: Role,
    /// The revision whose runs decide the row: the culprit, the parent, or
    /// a tested descendant of the parent that does not contain the culprit.
    pub rev: Rev,
    /// Matching crashes.
    pub crashed: u32,
    /// Informative runs.
    pub runs: u32,
    /// P(contains the culprit | this revision's own runs).
    pub own_posterior: f64,
    /// Decided at the verification target.
    pub decided: bool,
}

/// Row role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The culprit.
    Culprit,
    /// One of its parents.
    Parent,
}

/// How the bisection ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The culprit, with its posterior and verification.
    Culprit {
        /// The commit.
        commit: u32,
        /// Its posterior.
        posterior: f64,
        /// The runner-up and its posterior.
        runner_up: Option<(Hyp, f64)>,
        /// Every verification row decided.
        verified: bool,
        /// Parent-vs-culprit table.
        table: Vec<VerifyRow>,
    },
    /// No confident answer within the budget: the smallest set of top
    /// candidates whose posteriors add up to the confidence target.
    Unsure {
        /// Best first.
        top: Vec<(Hyp, f64)>,
    },
    /// The bug predates the range (every revision has it).
    NotInRange {
        /// Posterior of that.
        posterior: f64,
    },
    /// The start commit never showed the target crash.
    NotReproduced {
        /// Runs made on it.
        runs: usize,
    },
    /// The start commit did not build.
    StartBroken,
}

/// The result with the machine's bookkeeping.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The outcome.
    pub outcome: Outcome,
    /// Posterior mean of the repro probability p.
    pub p_mean: f64,
    /// Posterior mean of the look-alike rate q.
    pub q_mean: f64,
    /// Builds asked for (failed ones included, reused ones not).
    pub builds: usize,
    /// Runs asked for.
    pub runs: usize,
    /// Builds whose signature equalled an already tested binary's (their
    /// runs were shared).
    pub shared_signatures: usize,
    /// Commits found unable to change the binary (never built).
    pub folded: usize,
    /// Runs per phase: start, search, verification.
    pub runs_by_phase: [usize; 3],
    /// Builds per phase: start, search, verification.
    pub builds_by_phase: [usize; 3],
}

impl Report {
    /// The reported culprit (or best candidate) and the confidence given.
    pub fn answer(&self) -> (Option<u32>, f64) {
        match &self.outcome {
            Outcome::Culprit {
                commit, posterior, ..
            } => (Some(*commit), *posterior),
            Outcome::Unsure { top } => match top.first() {
                Some((Hyp::Commit(c), w)) => (Some(*c), *w),
                Some((Hyp::Old, w)) => (None, *w),
                None => (None, 0.0),
            },
            Outcome::NotInRange { posterior } => (None, *posterior),
            _ => (None, 0.0),
        }
    }
}

/// Knobs of the strategy.
#[derive(Clone, Debug)]
pub struct BayesConfig {
    /// The observation model and priors.
    pub model: ModelConfig,
    /// Cost of a build and a run.
    pub costs: Costs,
    /// Parallel test slots (VMs).
    pub slots: usize,
    /// Builds the builder makes at once: with more than one, a search
    /// round that builds takes that many revisions at once, spread over
    /// the posterior (fewer rounds, more builds: wall time for cost).
    pub build_slots: usize,
    /// Stop when the best culprit's posterior reaches this.
    pub confidence: f64,
    /// Each verification row must reach this on its own runs.
    pub verify_confidence: f64,
    /// ... or this, when the reproducer is flaky (estimated p below
    /// `flaky_p`): a clean run then says little, and an estimate of p that
    /// is a little high makes a few clean runs look convincing.
    pub verify_confidence_flaky: f64,
    /// Below this estimated repro chance the stricter verification applies.
    pub flaky_p: f64,
    /// Verification judges with the part of the posterior where p is at
    /// most this (see `verify.rs`).
    pub verify_p_max: f64,
    /// The range ends (releases, known-good commits) are judged on their
    /// own runs with p at most this: the start's few runs are all the
    /// estimate of p there is then, and a release judged good too early
    /// narrows the search.
    pub walk_p_max: f64,
    /// ... and at most this quantile of p's posterior: a high p resting
    /// on a handful of crashes (a flaky reproducer that crashed on its
    /// first three runs) must not let a few clean runs clear a parent.
    /// 0 turns it off.
    pub verify_p_quantile: f64,
    /// Cost budget of the whole bisection.
    pub budget: f64,
    /// Runs of the first batch on the start commit.
    pub start_first_runs: usize,
    /// Give up reproducing after this many runs on the start commit.
    pub start_max_runs: usize,
    /// At most this many runs on one binary during verification.
    pub verify_max_runs: u32,
    /// New-build options evaluated in full each round.
    pub shortlist: usize,
    /// Below this many bits per unit of cost nothing is worth doing.
    pub min_rate: f64,
    /// A new build gets the fewest runs whose information rate is within
    /// this fraction of its best (the rest can come later).
    pub lazy: f64,
    /// git bisect's own next revision (on the verdicts the posterior has
    /// decided) is taken whenever its information rate is within this
    /// fraction of the best: on a deterministic bug bayes then walks git's
    /// path, so it never needs more builds than `git bisect run` (plus the
    /// start commit and at most one parent for verification).
    pub git_tolerance: f64,
    /// A tested revision counts as decided for that git view when
    /// P(contains) is within this of 0 or 1.
    pub git_decided: f64,
}

impl Default for BayesConfig {
    fn default() -> Self {
        BayesConfig {
            model: ModelConfig::default(),
            costs: Costs::default(),
            slots: 10,
            build_slots: 1,
            confidence: 0.95,
            verify_confidence: 0.95,
            verify_confidence_flaky: 0.99,
            flaky_p: 0.9,
            verify_p_max: 0.9,
            walk_p_max: 0.75,
            verify_p_quantile: 0.05,
            budget: 250.0,
            start_first_runs: 1,
            start_max_runs: 60,
            verify_max_runs: 100,
            shortlist: 12,
            min_rate: 0.005,
            lazy: 0.03,
            git_tolerance: 0.3,
            git_decided: 0.15,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RevState {
    Built(BinId),
    Broken,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Start,
    Search,
    Verify,
}

/// The search state.
#[derive(Clone, Debug)]
pub struct Machine {
    pub(super) dag: RangeDag,
    pub(super) cfg: BayesConfig,
    pub(super) post: Posterior,
    pub(super) pmf: PmfCache,
    pub(super) head: u32,
    pub(super) revs: BTreeMap<Rev, RevState>,
    sigs: BTreeMap<String, BinId>,
    /// The revision each binary was first built from.
    bin_rev: Vec<Rev>,
    phase: Phase,
    pub(super) builds: usize,
    pub(super) failed: usize,
    runs: usize,
    runs_on: BTreeMap<BinId, usize>,
    saved: usize,
    folded: usize,
    by_phase: [[usize; 3]; 2],
    pub(super) children: Vec<Vec<u32>>,
    /// Commits git suggested whose binary was tested in their place (no-change
    /// commits): the git view marks them with their binary's verdict.
    pub(super) git_alias: BTreeMap<u32, u32>,
    /// Whether `dag.has_outside_parent[c]` is known for commit `c`.
    outside_known: Vec<bool>,
}

impl Machine {
    /// A bisection of `dag` whose start commit (the end containing every
    /// candidate) is `head`; `fix`: the culprit is a fix (containing it
    /// means *not* crashing). `outside_known`: the DAG's outside-parent
    /// flags are complete; otherwise the machine asks ([`Action::Describe`])
    /// before it verifies a culprit.
    pub fn new(dag: RangeDag, head: u32, cfg: BayesConfig, fix: bool, outside_known: bool) -> Self {
        let th = thetas(&cfg.model, fix);
        let pmf = PmfCache::new(&th, NEW_BUILD_RUNS[NEW_BUILD_RUNS.len() - 1].max(cfg.slots));
        let post = Posterior::new(&dag, th, cfg.model.prior_old);
        let children = dag.children();
        let head = dag.binary_of(head);
        let n = dag.len();
        Machine {
            dag,
            cfg,
            post,
            pmf,
            head,
            revs: BTreeMap::new(),
            sigs: BTreeMap::new(),
            bin_rev: Vec::new(),
            phase: Phase::Start,
            builds: 0,
            failed: 0,
            runs: 0,
            runs_on: BTreeMap::new(),
            saved: 0,
            folded: 0,
            by_phase: [[0; 3]; 2],
            children,
            git_alias: BTreeMap::new(),
            outside_known: vec![outside_known; n],
        }
    }

    /// The posterior (for inspection).
    pub fn posterior(&self) -> &Posterior {
        &self.post
    }

    /// The range.
    pub fn dag(&self) -> &RangeDag {
        &self.dag
    }

    /// The knobs.
    pub fn config(&self) -> &BayesConfig {
        &self.cfg
    }

    /// Cost spent so far.
    pub fn spent(&self) -> f64 {
        self.builds as f64 * self.cfg.costs.build + self.runs as f64 * self.cfg.costs.run
    }

    pub(super) fn bin(&self, rev: Rev) -> Option<BinId> {
        match self.revs.get(&rev) {
            Some(RevState::Built(b)) => Some(*b),
            _ => None,
        }
    }

    pub(super) fn is_broken(&self, rev: Rev) -> bool {
        matches!(self.revs.get(&rev), Some(RevState::Broken))
    }

    /// Whether the revision was built (or found broken) already.
    pub fn is_known(&self, rev: Rev) -> bool {
        self.revs.contains_key(&rev)
    }

    /// Whether the revision was built and can be run.
    pub fn is_built(&self, rev: Rev) -> bool {
        self.bin(rev).is_some()
    }

    /// Runs made so far.
    pub fn runs_made(&self) -> usize {
        self.runs
    }

    /// Builds made so far (failed ones included, reused ones not).
    pub fn builds_made(&self) -> usize {
        self.builds
    }

    /// Informative runs on a binary.
    pub(super) fn total(&self, b: BinId) -> u32 {
        self.post.counts(b).iter().sum()
    }

    /// Informative runs recorded on the binary of `rev` (zero when not built).
    pub fn counts(&self, rev: Rev) -> Counts {
        self.bin(rev).map_or([0; 3], |b| self.post.counts(b))
    }

    /// P(the binary of `rev` contains the culprit) under the posterior.
    pub fn contains(&self, rev: Rev) -> f64 {
        let inside = match rev {
            Rev::Commit(c) => Some(self.dag.binary_of(c)),
            Rev::OutsideParent(_) | Rev::Outside(_) => None,
        };
        self.post
            .contains_joint(&self.dag, inside)
            .iter()
            .sum::<f64>()
            .clamp(0.0, 1.0)
    }

    /// Commit `c` cannot change the binary (it touches no file the build
    /// uses): it shares its first parent's binary and is no candidate.
    pub fn fold(&mut self, c: u32) {
        if self.dag.same_binary_as_parent[c as usize] || c == self.head {
            return;
        }
        self.dag.same_binary_as_parent[c as usize] = true;
        self.folded += 1;
        self.post.exclude(&[c]);
    }

    /// Answers [`Action::Describe`]: whether `c` has parents outside the range.
    pub fn describe(&mut self, c: u32, has_outside_parent: bool) {
        self.dag.has_outside_parent[c as usize] = has_outside_parent;
        self.outside_known[c as usize] = true;
    }

    /// A build finished.
    pub fn built(&mut self, rev: Rev, r: BuildResult) {
        let signature = match r {
            BuildResult::Failed => {
                self.builds += 1;
                self.by_phase[0][self.phase as usize] += 1;
                self.failed += 1;
                self.revs.insert(rev, RevState::Broken);
                return;
            }
            BuildResult::Built { signature } => {
                self.builds += 1;
                self.by_phase[0][self.phase as usize] += 1;
                signature
            }
            BuildResult::Reused { signature } => signature,
        };
        if let Some(&b) = signature.as_ref().and_then(|s| self.sigs.get(s)) {
            self.saved += 1;
            // Same binary as one already tested: share its runs, and the
            // commits by which the two revisions differ changed nothing,
            // so none of them is the culprit.
            let a = self.range_ancestors(rev);
            let a0 = self.bin_rev.get(b).and_then(|&r0| self.range_ancestors(r0));
            if let (Some(a), Some(a0)) = (a, a0) {
                let diff: Vec<u32> = (0..self.dag.len() as u32)
                    .filter(|&c| a[c as usize] != a0[c as usize])
                    .collect();
                self.post.exclude(&diff);
            }
            let broken = self.bin_is_broken(b);
            self.revs.insert(
                rev,
                if broken {
                    RevState::Broken
                } else {
                    RevState::Built(b)
                },
            );
            return;
        }
        let inside = match rev {
            Rev::Commit(c) => Some(c),
            Rev::OutsideParent(_) | Rev::Outside(_) => None,
        };
        let b = self.post.add_binary(&self.dag, inside);
        self.bin_rev.push(rev);
        if let Some(s) = signature {
            self.sigs.insert(s, b);
        }
        self.revs.insert(rev, RevState::Built(b));
    }

    /// The range commits a revision was built from; `Some(all false)` for
    /// one outside the range.
    fn range_ancestors(&self, rev: Rev) -> Option<Vec<bool>> {
        match rev {
            Rev::Commit(c) => Some(self.dag.ancestors(&[c])),
            Rev::OutsideParent(_) | Rev::Outside(_) => Some(vec![false; self.dag.len()]),
        }
    }

    /// The first revision of binary `b` was found untestable.
    fn bin_is_broken(&self, b: BinId) -> bool {
        self.bin_rev
            .get(b)
            .is_some_and(|r| self.revs.get(r) == Some(&RevState::Broken))
    }

    /// Runs finished on a built revision. A revision whose runs never told
    /// anything and show it cannot be tested (boot failures) is set aside
    /// like a failed build, with every revision of the same binary.
    pub fn ran(&mut self, rev: Rev, obs: &[RunObs]) {
        let Some(b) = self.bin(rev) else { return };
        let c = counts_of(obs);
        self.runs += obs.len();
        self.by_phase[1][self.phase as usize] += obs.len();
        *self.runs_on.entry(b).or_default() += obs.len();
        self.post.add_runs(b, &c);
        if self.total(b) == 0 && obs.contains(&RunObs::Broken) {
            for s in self.revs.values_mut() {
                if *s == RevState::Built(b) {
                    *s = RevState::Broken;
                }
            }
        }
    }

    fn report(&self, outcome: Outcome) -> Report {
        Report {
            outcome,
            p_mean: self.post.p_mean(),
            q_mean: self.post.q_mean(),
            builds: self.builds,
            runs: self.runs,
            shared_signatures: self.saved,
            folded: self.folded,
            runs_by_phase: self.by_phase[1],
            builds_by_phase: self.by_phase[0],
        }
    }

    /// The smallest set of top hypotheses whose posteriors add up to the
    /// confidence target (at most `max`, at least two when there are).
    pub fn credible_set(&self, max: usize) -> Vec<(Hyp, f64)> {
        let ranked = self.post.top(max.max(2));
        let mut out = Vec::new();
        let mut sum = 0.0;
        for (h, w) in ranked {
            if sum >= self.cfg.confidence && out.len() >= 2 {
                break;
            }
            sum += w;
            out.push((h, w));
        }
        out
    }

    /// What to do next.
    pub fn next_action(&mut self) -> Action {
        loop {
            match self.phase {
                Phase::Start => {
                    let rev = Rev::Commit(self.head);
                    let Some(b) = self.bin(rev) else {
                        if self.is_broken(rev) {
                            return Action::Done(self.report(Outcome::StartBroken));
                        }
                        return Action::Run(vec![Job {
                            rev,
                            build: true,
                            runs: self.cfg.start_first_runs,
                        }]);
                    };
                    if self.post.counts(b)[0] > 0 {
                        self.phase = Phase::Search;
                        continue;
                    }
                    let made = self.runs_on.get(&b).copied().unwrap_or(0);
                    if made >= self.cfg.start_max_runs {
                        return Action::Done(self.report(Outcome::NotReproduced { runs: made }));
                    }
                    return Action::Run(vec![Job {
                        rev,
                        build: false,
                        runs: self.cfg.slots.min(self.cfg.start_max_runs - made),
                    }]);
                }
                Phase::Search => {
                    let top = self.post.top(3);
                    if let Some(&(h, w)) = top.first()
                        && w >= self.cfg.confidence
                    {
                        match h {
                            Hyp::Old => {
                                return Action::Done(
                                    self.report(Outcome::NotInRange { posterior: w }),
                                );
                            }
                            Hyp::Commit(_) => {
                                self.phase = Phase::Verify;
                                continue;
                            }
                        }
                    }
                    if self.spent() >= self.cfg.budget {
                        let top = self.credible_set(MAX_UNSURE);
                        return Action::Done(self.report(Outcome::Unsure { top }));
                    }
                    let jobs = self.plan_search();
                    if jobs.is_empty() {
                        let top = self.credible_set(MAX_UNSURE);
                        return Action::Done(self.report(Outcome::Unsure { top }));
                    }
                    return Action::Run(jobs);
                }
                Phase::Verify => {
                    let top = self.post.top(2);
                    let c = match top.first() {
                        Some(&(Hyp::Commit(c), w)) if w >= self.cfg.confidence => c,
                        _ => {
                            self.phase = Phase::Search;
                            continue;
                        }
                    };
                    if !self.outside_known[c as usize] {
                        return Action::Describe(c);
                    }
                    match self.verify_step(c) {
                        super::verify::Step::Need(jobs) => return Action::Run(jobs),
                        super::verify::Step::Done { table, verified } => {
                            return Action::Done(self.report(Outcome::Culprit {
                                commit: c,
                                posterior: top[0].1,
                                runner_up: top.get(1).copied(),
                                verified,
                                table,
                            }));
                        }
                    }
                }
            }
        }
    }

    /// The caller reproduced the crash itself (its runs are preloaded with
    /// [`Machine::built`] and [`Machine::ran`]): go straight to the search.
    pub fn skip_start(&mut self) {
        if self.phase == Phase::Start {
            self.phase = Phase::Search;
        }
    }

    /// Whether the machine is verifying a culprit now.
    pub fn verifying(&self) -> bool {
        self.phase == Phase::Verify
    }
}

/// At most this many candidates in an "unsure" answer.
pub const MAX_UNSURE: usize = 32;
