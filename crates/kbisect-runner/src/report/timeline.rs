//! The tested revisions as the replayed events tell them — one row per
//! commit, in the order they were first tested — their place in history,
//! and the range as it shrank. Built from events (not from the result's
//! evidence) so an interrupted bisection gets a timeline too.

use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::time::Duration;

use kbisect_core::{
    ArtifactSignature, Candidate, CommitId, CrashType, Event, RunOutcome, Vcs, Verdict,
};

use super::replay::ServedRun;

/// Why a revision was tested, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The start commit.
    Start,
    /// A release tag of the release walk.
    Release(String),
    /// A commit given as known good (or known fixed).
    KnownGood,
    /// HEAD of the branch (fix bisection).
    Head,
    /// A merge base.
    MergeBase,
    /// A step of the bisection.
    Bisect,
    /// The culprit's parent, built to compare signatures.
    ParentBuild,
    /// Anything else (a strategy's own reasons).
    Other,
}

impl Role {
    /// A short label.
    pub fn label(&self) -> String {
        match self {
            Role::Start => "start".into(),
            Role::Release(t) => format!("release {t}"),
            Role::KnownGood => "known good".into(),
            Role::Head => "HEAD".into(),
            Role::MergeBase => "merge base".into(),
            Role::Bisect => "bisect".into(),
            Role::ParentBuild => "parent (build only)".into(),
            Role::Other => "tested".into(),
        }
    }
}

/// One tested (or built) revision.
#[derive(Debug, Clone)]
pub struct Row {
    /// The revision.
    pub commit: CommitId,
    /// Its title.
    pub title: String,
    /// Why it was first tested.
    pub role: Role,
    /// 1-based: the n-th revision the bisection turned to.
    pub order: usize,
    /// The compiler logged for it.
    pub compiler: Option<String>,
    /// Its artifact signature.
    pub signature: Option<ArtifactSignature>,
    /// Its build error, when it did not build.
    pub build_error: Option<String>,
    /// Time its builds took.
    pub build_time: Duration,
    /// Every run made on it, in the order the engine saw them.
    pub runs: Vec<ServedRun>,
    /// Its latest verdict, in crash terms.
    pub verdict: Option<Verdict>,
    /// Its `git bisect` mark, in git's terms.
    pub mark: Option<Verdict>,
    /// P(it contains the culprit), as a posterior-keeping strategy last
    /// put it.
    pub contains: Option<f64>,
}

impl Row {
    /// Runs that crashed (any crash), and runs that counted (crashed or
    /// passed; lost, boot and test failures left out).
    pub fn crashed_of(&self, transient: impl Fn(&CrashType) -> bool) -> (usize, usize) {
        let mut crashed = 0;
        let mut usable = 0;
        for r in &self.runs {
            match &r.result.outcome {
                RunOutcome::Ok => usable += 1,
                RunOutcome::Crashed(c) if !transient(&c.crash_type) => {
                    crashed += 1;
                    usable += 1;
                }
                _ => {}
            }
        }
        (crashed, usable)
    }

    /// The machine time of its runs, spread over the slots they shared.
    pub fn test_time(&self, parallel: usize) -> Duration {
        let total: Duration = self.runs.iter().map(|r| r.result.duration).sum();
        let slots = parallel.min(self.runs.len()).max(1);
        total / u32::try_from(slots).unwrap_or(1)
    }
}

/// The range as one step of the bisection saw it.
#[derive(Debug, Clone)]
pub struct RangeStep {
    /// The revision tested at this step.
    pub commit: CommitId,
    /// Revisions left to test after it.
    pub left: usize,
    /// Steps left, roughly.
    pub steps: usize,
    /// Revisions marked good (git's terms) before it.
    pub goods: Vec<CommitId>,
    /// Revisions marked bad (git's terms) before it.
    pub bads: Vec<CommitId>,
}

/// One round of a posterior-keeping strategy (bayes): the two most likely
/// culprits after it.
#[derive(Debug, Clone)]
pub struct Round {
    /// The most likely culprit.
    pub best: Candidate,
    /// The next most likely.
    pub runner_up: Option<Candidate>,
    /// The estimated repro chance.
    pub repro_chance: f64,
    /// Builds made so far.
    pub builds: usize,
    /// Runs made so far.
    pub runs: usize,
}

/// Everything the events tell about the revisions.
#[derive(Debug, Default)]
pub struct Timeline {
    /// In the order first tested.
    pub rows: Vec<Row>,
    /// The bisection's steps.
    pub range: Vec<RangeStep>,
    /// `# git bisect start`'s ends: (bad, goods).
    pub ends: Option<(CommitId, Vec<CommitId>)>,
    /// The crash bisected: the start commit's representative crash title.
    pub target: Option<String>,
    /// The posterior after each round (bayes).
    pub rounds: Vec<Round>,
    /// Commits in the range a posterior search started with.
    pub search_commits: Option<usize>,
}

impl Timeline {
    /// Reads `events`; `served` are the runs the replay handed out, in the
    /// order the engine got them (each `RunFinished` is the next one of
    /// its commit).
    pub fn from_events(events: &[Event], served: &[ServedRun]) -> Timeline {
        let mut t = Timeline::default();
        let mut by_commit: HashMap<CommitId, usize> = HashMap::new();
        let mut queues: HashMap<&CommitId, VecDeque<&ServedRun>> = HashMap::new();
        for s in served {
            queues.entry(&s.commit).or_default().push_back(s);
        }
        let mut next_role = Role::Other;
        let (mut goods, mut bads): (Vec<CommitId>, Vec<CommitId>) = (Vec::new(), Vec::new());
        let mut start_crashes: BTreeMap<String, usize> = BTreeMap::new();
        for e in events {
            match e {
                Event::ReproducingStart { .. } => next_role = Role::Start,
                Event::TestingRelease { tag } => next_role = Role::Release(tag.clone()),
                Event::TestingKnownGood { .. } => next_role = Role::KnownGood,
                Event::TestingHead { .. } => next_role = Role::Head,
                Event::CheckingMergeBase { .. } => next_role = Role::MergeBase,
                Event::ParentNotTested { .. } => next_role = Role::ParentBuild,
                Event::BisectStart { bad, goods: g } => {
                    t.ends = Some((bad.clone(), g.clone()));
                    bads = vec![bad.clone()];
                    goods = g.clone();
                    next_role = Role::Bisect;
                }
                Event::BisectNext {
                    left,
                    steps,
                    commit,
                    ..
                } => {
                    t.range.push(RangeStep {
                        commit: commit.clone(),
                        left: *left,
                        steps: *steps,
                        goods: goods.clone(),
                        bads: bads.clone(),
                    });
                    next_role = Role::Bisect;
                }
                Event::BisectMark { term, commit } => {
                    match term {
                        Verdict::Good => goods.push(commit.clone()),
                        Verdict::Bad => bads.push(commit.clone()),
                        Verdict::Skip => {}
                    }
                    if let Some(&i) = by_commit.get(commit) {
                        t.rows[i].mark = Some(*term);
                    }
                }
                Event::TestingCommit {
                    commit,
                    title,
                    compiler,
                } => {
                    if !by_commit.contains_key(commit) {
                        by_commit.insert(commit.clone(), t.rows.len());
                        t.rows.push(Row {
                            commit: commit.clone(),
                            title: title.clone(),
                            role: next_role.clone(),
                            order: t.rows.len() + 1,
                            compiler: compiler.clone(),
                            signature: None,
                            build_error: None,
                            build_time: Duration::ZERO,
                            runs: Vec::new(),
                            verdict: None,
                            mark: None,
                            contains: None,
                        });
                    }
                    if next_role == Role::ParentBuild {
                        next_role = Role::Other;
                    }
                }
                Event::Built {
                    commit,
                    signature,
                    error,
                    duration,
                } => {
                    if let Some(&i) = by_commit.get(commit) {
                        let r = &mut t.rows[i];
                        r.signature = signature.clone().or(r.signature.take());
                        r.build_error = error.clone();
                        r.build_time += *duration;
                    }
                }
                Event::RunFinished { commit, .. } => {
                    let run = queues.get_mut(commit).and_then(VecDeque::pop_front);
                    if let (Some(&i), Some(run)) = (by_commit.get(commit), run) {
                        let row = &mut t.rows[i];
                        if row.role == Role::Start
                            && let RunOutcome::Crashed(c) = &run.result.outcome
                        {
                            *start_crashes.entry(c.title.clone()).or_default() += 1;
                        }
                        row.runs.push(run.clone());
                    }
                }
                Event::Representative { title, .. } if t.target.is_none() => {
                    t.target = Some(title.clone());
                }
                Event::Verdict {
                    commit, verdict, ..
                } => {
                    if let Some(&i) = by_commit.get(commit) {
                        t.rows[i].verdict = Some(*verdict);
                    }
                }
                Event::SearchStarted {
                    head,
                    goods: g,
                    commits,
                    ..
                } => {
                    t.ends = Some((head.clone(), g.clone()));
                    t.search_commits = Some(*commits);
                    next_role = Role::Bisect;
                }
                Event::Contains {
                    commit,
                    probability,
                    ..
                } => {
                    if let Some(&i) = by_commit.get(commit) {
                        t.rows[i].contains = Some(*probability);
                    }
                }
                Event::Posterior {
                    best,
                    runner_up,
                    repro_chance,
                    builds,
                    runs,
                } => t.rounds.push(Round {
                    best: best.clone(),
                    runner_up: runner_up.clone(),
                    repro_chance: *repro_chance,
                    builds: *builds,
                    runs: *runs,
                }),
                _ => {}
            }
        }
        if t.target.is_none() {
            // The start commit's most frequent crash (strategies that do not
            // name a representative).
            t.target = start_crashes
                .into_iter()
                .max_by_key(|(title, n)| (*n, std::cmp::Reverse(title.clone())))
                .map(|(title, _)| title);
        }
        t
    }

    /// The row of a commit.
    pub fn row(&self, id: &CommitId) -> Option<&Row> {
        self.rows.iter().find(|r| &r.commit == id)
    }

    /// Indices of `rows` in history order, oldest first: the range's commits
    /// in topological order (parents first), the revisions outside it
    /// before or after by ancestry, then commit time.
    pub fn history_order(&self, vcs: &dyn Vcs) -> Vec<usize> {
        let times: Vec<i64> = self
            .rows
            .iter()
            .map(|r| vcs.commit(&r.commit).map_or(0, |c| c.commit_time))
            .collect();
        let mut keys: Vec<(u8, i64, usize)> = Vec::with_capacity(self.rows.len());
        let topo = self
            .ends
            .as_ref()
            .and_then(|(bad, goods)| vcs.dag(bad, goods).ok())
            .map(|dag| topo_positions(&dag))
            .unwrap_or_default();
        for (i, r) in self.rows.iter().enumerate() {
            let key = match (topo.get(&r.commit), &self.ends) {
                (Some(&p), _) => (1, i64::try_from(p).unwrap_or(i64::MAX), i),
                (None, Some((bad, _))) => {
                    // Outside the range: older than it when an ancestor of its bad end.
                    let older = vcs.is_ancestor(&r.commit, bad).unwrap_or(false);
                    (if older { 0 } else { 2 }, times[i], i)
                }
                (None, None) => (1, times[i], i),
            };
            keys.push(key);
        }
        let mut idx: Vec<usize> = (0..self.rows.len()).collect();
        idx.sort_by_key(|&i| keys[i]);
        idx
    }
}

/// Each commit's position in a parents-first order of the DAG (ties: the
/// older by `git rev-list` order first).
fn topo_positions(dag: &kbisect_git::Dag) -> HashMap<CommitId, usize> {
    let n = dag.commits.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = vec![0; n];
    for (i, ps) in dag.parents.iter().enumerate() {
        for &p in ps {
            let p = p as usize;
            if p < n {
                children[p].push(i);
                waiting[i] += 1;
            }
        }
    }
    // rev-list lists newest first: a larger index is older.
    let mut ready: BinaryHeap<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut out = HashMap::with_capacity(n);
    while let Some(i) = ready.pop() {
        out.insert(dag.commits[i].clone(), out.len());
        for &c in &children[i] {
            waiting[c] -= 1;
            if waiting[c] == 0 {
                ready.push(c);
            }
        }
    }
    out
}
