//! The engine: drives one bisection through the phases of BISECTION.md with
//! the syzkaller-compatible strategy, and keeps the evidence.

mod range;
mod revision;
mod start;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kbisect_git::{Commit, CommitId, parse_release_tag};
use kbisect_report::CrashType;

use crate::dag::{DagBisect, Step};
use crate::error::EngineError;
use crate::events::{Event, EventSink};
use crate::model::{KernelConfig, KernelSignature, Verdict};
use crate::result::{BisectResult, OutcomeKind, Purpose, ResultReport, RevisionEvidence};
use crate::traits::{Builder, ConfigMinimizer, Tester, Vcs};

/// How the search is run. Only syzbot's own rules exist so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    #[default]
    Syzkaller,
}

/// What to bisect and how.
#[derive(Clone, Debug)]
pub struct BisectConfig {
    /// Fix bisection (find the commit that made the crash go away).
    pub fix: bool,
    /// The commit the crash was seen on, as given (hash, tag, ref).
    pub start: String,
    /// Its title, to find it again when history was rewritten.
    pub start_title: Option<String>,
    /// The branch under bisection (for messages; the `Vcs` knows it).
    pub branch: String,
    /// The start commit lives in another tree.
    pub cross_tree: bool,
    pub config: KernelConfig,
    pub baseline_config: Option<KernelConfig>,
    /// Commits known not to crash (cause) or known to be fixed (fix): they
    /// replace the release walk (cause) or HEAD (fix).
    pub known_good: Vec<String>,
    /// The oldest release tag the compiler can build (`v4.19` for gcc).
    pub compiler_horizon: Option<String>,
    /// Runs per revision (doubled for the first revision and once flaky).
    pub runs: usize,
    pub timeout: Option<Duration>,
    pub strategy: Strategy,
}

impl BisectConfig {
    pub fn new(start: impl Into<String>, branch: impl Into<String>) -> Self {
        BisectConfig {
            fix: false,
            start: start.into(),
            start_title: None,
            branch: branch.into(),
            cross_tree: false,
            config: KernelConfig::default(),
            baseline_config: None,
            known_good: Vec::new(),
            compiler_horizon: None,
            runs: 10,
            timeout: None,
            strategy: Strategy::Syzkaller,
        }
    }
}

/// syzkaller's testResult: what the engine remembers about a tested revision.
#[derive(Clone, Debug)]
struct Tested {
    verdict: Verdict,
    commit: Commit,
    report: Option<ResultReport>,
    types: Vec<CrashType>,
    signature: Option<KernelSignature>,
    bad_ratio: f64,
    confidence: f64,
}

pub struct Engine<'a> {
    cfg: BisectConfig,
    vcs: &'a dyn Vcs,
    builder: &'a mut dyn Builder,
    tester: &'a mut dyn Tester,
    minimizer: Option<&'a mut dyn ConfigMinimizer>,
    events: &'a mut dyn EventSink,
    started: Instant,
    kernel_config: KernelConfig,
    /// syzkaller's env.commit: the start commit, then the range end that
    /// crashes (cause: bad end; fix: good end).
    commit: Option<Commit>,
    num_tests: usize,
    flaky: bool,
    repro_chance: f64,
    confidence: f64,
    report_types: Vec<CrashType>,
    build_time: Duration,
    test_time: Duration,
    results: HashMap<CommitId, Tested>,
    /// Tested commits in order, so walks over results are deterministic.
    tested_order: Vec<CommitId>,
    evidence: Vec<RevisionEvidence>,
    occurrences: HashMap<(CommitId, String), usize>,
}

/// The end of the range phase: a range to bisect, or already a result.
enum Range {
    Bisect { bad: Box<Commit>, good: Vec<Commit> },
    Done(Box<BisectResult>),
}

impl<'a> Engine<'a> {
    pub fn new(
        cfg: BisectConfig,
        vcs: &'a dyn Vcs,
        builder: &'a mut dyn Builder,
        tester: &'a mut dyn Tester,
        events: &'a mut dyn EventSink,
    ) -> Self {
        let kernel_config = cfg.config.clone();
        Engine {
            cfg,
            vcs,
            builder,
            tester,
            minimizer: None,
            events,
            started: Instant::now(),
            kernel_config,
            commit: None,
            num_tests: 0,
            flaky: false,
            repro_chance: 1.0,
            confidence: 1.0,
            report_types: Vec::new(),
            build_time: Duration::ZERO,
            test_time: Duration::ZERO,
            results: HashMap::new(),
            tested_order: Vec::new(),
            evidence: Vec::new(),
            occurrences: HashMap::new(),
        }
    }

    pub fn with_minimizer(mut self, m: &'a mut dyn ConfigMinimizer) -> Self {
        self.minimizer = Some(m);
        self
    }

    fn emit(&mut self, e: Event) {
        self.events.event(&e);
    }

    fn note(&mut self, s: impl Into<String>) {
        self.emit(Event::Note(s.into()));
    }

    /// Runs the whole bisection.
    pub fn run(mut self) -> Result<BisectResult, EngineError> {
        self.started = Instant::now();
        // Name the commit by hash when the user gave a ref (`HEAD`, a tag).
        let shown = match self.vcs.resolve(&self.cfg.start) {
            Ok(Some(id)) if !id.as_str().starts_with(self.cfg.start.as_str()) => {
                format!("{id} ({})", self.cfg.start)
            }
            _ => self.cfg.start.clone(),
        };
        self.emit(Event::Started {
            fix: self.cfg.fix,
            commit: shown,
        });
        let res = self.bisect();
        let flaky = self.flaky.then_some(self.repro_chance);
        self.emit(Event::Totals {
            revisions: self.num_tests,
            total: self.started.elapsed(),
            build: self.build_time,
            test: self.test_time,
            flaky,
        });
        res.map(|mut r| {
            r.total_time = self.started.elapsed();
            r.build_time = self.build_time;
            r.test_time = self.test_time;
            r.revisions_tested = self.num_tests;
            r.flaky = self.flaky;
            r.repro_chance = self.repro_chance;
            r.evidence = std::mem::take(&mut self.evidence);
            r
        })
    }

    fn bisect(&mut self) -> Result<BisectResult, EngineError> {
        let start_id = self.identify_start()?;
        let goods = self.resolve_known_good(&start_id)?;
        let start = self.vcs.commit(&start_id)?;
        self.note(format!(
            "ensuring issue is reproducible on original commit {start_id}"
        ));
        self.commit = Some(start.clone());
        let mut start_res = self.test(&start, Purpose::Start)?;
        if start_res.verdict != Verdict::Bad {
            return Err(EngineError::NotReproduced);
        }
        self.report_types = start_res.types.clone();
        self.repro_chance = start_res.bad_ratio;
        if let Some(r) = self.minimize_config(&start)? {
            // The minimized config may reproduce differently.
            self.repro_chance = r.bad_ratio;
            start_res = r;
        }
        self.remember(start_res);

        let (bad, good) = match self.commit_range(&start, goods)? {
            Range::Done(r) => return Ok(*r),
            Range::Bisect { bad, good } => (*bad, good),
        };
        self.commit = Some(if self.cfg.fix {
            good[0].clone()
        } else {
            bad.clone()
        });
        let commits = self.bisect_dag(&bad, &good)?;
        self.note(format!(
            "accumulated error probability: {:.2}",
            1.0 - self.confidence
        ));
        let mut res = self.result(OutcomeKind::Culprit);
        if commits.len() == 1 {
            let com = commits[0].clone();
            let tested = self
                .results
                .get(&com.id)
                .cloned()
                .ok_or_else(|| EngineError::Internal("no result for culprit commit".into()))?;
            res.report = tested.report.clone();
            res.release = match self.vcs.tags_on(&com.id) {
                Ok(tags) => tags.iter().any(|t| parse_release_tag(t).is_some()),
                Err(e) => {
                    self.note(format!("failed to detect release: {e}"));
                    false
                }
            };
            res.merge = com.parents.len() > 1;
            res.recipients = crate::recipients::recipients(&com);
            self.detect_noop(&com, &tested, &mut res)?;
        } else {
            res.kind = OutcomeKind::Inconclusive;
        }
        res.commits = commits;
        Ok(res)
    }

    /// A result skeleton with what the engine knows now.
    fn result(&self, kind: OutcomeKind) -> BisectResult {
        BisectResult {
            fix: self.cfg.fix,
            kind,
            commits: Vec::new(),
            horizon: None,
            report: None,
            config: self.kernel_config.clone(),
            release: false,
            merge: false,
            noop: false,
            recipients: Default::default(),
            culprit_signature: None,
            parent_signature: None,
            confidence: self.confidence,
            flaky: self.flaky,
            repro_chance: self.repro_chance,
            revisions_tested: self.num_tests,
            build_time: self.build_time,
            test_time: self.test_time,
            total_time: self.started.elapsed(),
            evidence: Vec::new(),
        }
    }

    fn remember(&mut self, t: Tested) {
        if !self.results.contains_key(&t.commit.id) {
            self.tested_order.push(t.commit.id.clone());
        }
        self.results.insert(t.commit.id.clone(), t);
    }

    /// The DAG bisection proper, logged as `git bisect` would print it.
    fn bisect_dag(&mut self, bad: &Commit, good: &[Commit]) -> Result<Vec<Commit>, EngineError> {
        let good_ids: Vec<CommitId> = good.iter().map(|c| c.id.clone()).collect();
        let dag = self.vcs.dag(&bad.id, &good_ids)?;
        self.emit(Event::BisectStart {
            bad: bad.id.clone(),
            goods: good_ids,
        });
        let mut bis =
            DagBisect::new(dag, &bad.id).map_err(|e| EngineError::Internal(e.to_string()))?;
        loop {
            match bis.next() {
                Step::Test {
                    commit,
                    left,
                    steps,
                } => {
                    let com = self.vcs.commit(&commit)?;
                    self.emit(Event::BisectNext {
                        left,
                        steps,
                        commit: commit.clone(),
                        title: com.title.clone(),
                    });
                    let term = self.test_predicate(&com)?;
                    self.emit(Event::BisectMark {
                        term,
                        commit: commit.clone(),
                    });
                    bis.mark(&commit, term)
                        .map_err(|e| EngineError::Internal(e.to_string()))?;
                }
                Step::Found(id) => {
                    let com = self.vcs.commit(&id)?;
                    let diffstat = self.vcs.diffstat(&id)?;
                    self.emit(Event::FirstBad {
                        commit: Box::new(com.clone()),
                        diffstat,
                    });
                    return Ok(vec![com]);
                }
                Step::OnlySkipped(ids) => {
                    self.emit(Event::OnlySkippedLeft {
                        candidates: ids.clone(),
                    });
                    return ids.iter().map(|id| Ok(self.vcs.commit(id)?)).collect();
                }
            }
        }
    }

    /// The predicate of the DAG bisection, in git bisect's terms. In a fix
    /// bisection a revision may predate the bug (an old branch merged
    /// late): it is checked first (syzkaller #4117).
    fn test_predicate(&mut self, com: &Commit) -> Result<Verdict, EngineError> {
        let mut crash_verdict = None;
        if self.cfg.fix {
            self.note("determine whether the revision contains the guilty commit");
            match self.revision_had_bug(com)? {
                Some(true) => {}
                Some(false) => {
                    self.note("the bug was not introduced yet; pretend that kernel crashed");
                    crash_verdict = Some(Verdict::Bad);
                }
                None => {
                    // syzkaller means to skip here but then overwrites it with
                    // "crashed"; a revision we know nothing about is a skip.
                    self.note("unable to determine whether there was a bug; skip the revision");
                    crash_verdict = Some(Verdict::Skip);
                }
            }
        }
        let v = match crash_verdict {
            Some(v) => v,
            None => {
                let t = self.test(com, Purpose::Bisect)?;
                self.confidence *= t.confidence;
                if t.verdict == Verdict::Bad {
                    // Only ever lower the estimate, and only half way: one
                    // revision's ratio is itself noisy.
                    let avg = (self.repro_chance + t.bad_ratio) / 2.0;
                    if self.repro_chance > avg {
                        self.repro_chance = avg;
                    }
                }
                let v = t.verdict;
                self.remember(t);
                v
            }
        };
        Ok(if self.cfg.fix { invert(v) } else { v })
    }

    /// Whether the bug was present at `com`: a crashing tested revision is
    /// its ancestor, or one of its merge bases with the crashing end crashes.
    /// `None` when none of those could be tested.
    fn revision_had_bug(&mut self, com: &Commit) -> Result<Option<bool>, EngineError> {
        for id in self.tested_order.clone() {
            let crashed = self
                .results
                .get(&id)
                .is_some_and(|t| t.verdict == Verdict::Bad);
            if crashed && self.vcs.is_ancestor(&id, &com.id)? {
                self.note(format!("revision {id} crashed and is reachable"));
                return Ok(Some(true));
            }
        }
        let Some(anchor) = self.commit.clone() else {
            return Ok(None);
        };
        let bases = self.vcs.merge_bases(&com.id, &anchor.id)?;
        let mut any = false;
        for base in bases {
            self.note(format!("checking the merge base {base}"));
            let t = match self.results.get(&base) {
                Some(t) => t.clone(),
                None => {
                    self.note("no existing result, test the revision");
                    let bc = self.vcs.commit(&base)?;
                    let t = self.test(&bc, Purpose::MergeBase)?;
                    self.remember(t.clone());
                    t
                }
            };
            match t.verdict {
                Verdict::Skip => continue,
                Verdict::Bad => return Ok(Some(true)),
                Verdict::Good => any = true,
            }
        }
        Ok(if any { Some(false) } else { None })
    }

    /// Flags a culprit whose binary equals its parent's (building the parent
    /// when it was not tested).
    fn detect_noop(
        &mut self,
        com: &Commit,
        tested: &Tested,
        res: &mut BisectResult,
    ) -> Result<(), EngineError> {
        let Some(sig) = tested.signature.clone() else {
            return Ok(());
        };
        if com.parents.len() != 1 {
            return Ok(());
        }
        let parent = com.parents[0].clone();
        let parent_sig = match self.results.get(&parent) {
            Some(t) => t.signature.clone(),
            None => {
                self.note(format!("parent commit {parent} wasn't tested"));
                let pc = self.vcs.commit(&parent)?;
                self.build_only(&pc)?
            }
        };
        let Some(parent_sig) = parent_sig else {
            self.note("failed to detect noop change: the parent did not build");
            return Ok(());
        };
        self.emit(Event::Signatures {
            culprit: sig.clone(),
            parent: parent_sig.clone(),
        });
        res.noop = sig == parent_sig;
        res.culprit_signature = Some(sig);
        res.parent_signature = Some(parent_sig);
        Ok(())
    }
}

fn invert(v: Verdict) -> Verdict {
    match v {
        Verdict::Good => Verdict::Bad,
        Verdict::Bad => Verdict::Good,
        Verdict::Skip => Verdict::Skip,
    }
}
