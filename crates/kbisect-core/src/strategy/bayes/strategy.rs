//! The [`Strategy`] of the `bayes` search, outside the search itself: the
//! start commit and the range ends (releases, known-good commits, HEAD,
//! merge bases, config candidates) are judged on their own runs, which are
//! kept: they become evidence in the search's posterior.
//!
//! **Runs on one revision.** The start commit is run until it crashes
//! (1 run, then batches of the job's parallel slots, at most 60): its
//! runs also say how flaky the reproducer is. Any other revision gets 2
//! runs, then as many as would decide it if they came out as expected,
//! until P(it has the bug | its own runs) — from an even prior, with the
//! estimate of p from the revisions judged bad so far (the start commit,
//! bad releases) restricted to p <= 0.75 — is at least 0.95 (bad) or at
//! most 0.01 (good: a release judged good ends the release walk), bounded
//! at 50 runs (then the likelier side; the search's range starts one
//! release older than the walk's good one, so a flaky bug that happened
//! not to crash there is still found). A revision that only fails to boot
//! is a skip. A known-good commit is the user's word: it is good unless
//! its runs say otherwise overwhelmingly (one clean run suffices; a
//! matching crash makes it run until decided).

use std::collections::BTreeMap;

use kbisect_git::{Commit, CommitId};

use super::machine::BayesConfig;
use super::model::{Counts, RunObs, Theta, counts_of, own_runs_posterior, restricted, thetas};
use crate::Verdict;
use crate::engine::{Context, count_runs};
use crate::error::EngineError;
use crate::events::Event;
use crate::model::{BuildOutcome, Crash, RunOutcome, RunResult};
use crate::representative;
use crate::result::{
    BisectResult, Candidate, OutcomeKind, Purpose, ResultReport, RevisionEvidence, Verification,
};
use crate::strategy::Strategy;

/// How revisions outside the search are judged on their own runs.
#[derive(Clone, Debug)]
pub struct RangeRules {
    /// Runs of the first batch.
    pub probe: usize,
    /// Runs of the first batch on a known-good commit (the user's word:
    /// one clean run is the check `git bisect` does not even make).
    pub known_good_probe: usize,
    /// At most this many runs on one revision (then: a skip).
    pub max_runs: usize,
    /// P(has the bug | own runs) at least this: bad.
    pub bad: f64,
    /// P(has the bug | own runs) at most one minus this: good.
    pub good: f64,
    /// Good for a known-good commit that crashed in its probe.
    pub known_good: f64,
    /// Bad for a known-good commit: the user said it is good, and the
    /// search's posterior keeps "the bug is older" open anyway, so only
    /// overwhelming runs refuse it (an unrelated crash must not).
    pub known_good_bad: f64,
}

impl Default for RangeRules {
    fn default() -> Self {
        RangeRules {
            probe: 2,
            known_good_probe: 1,
            max_runs: 50,
            bad: 0.95,
            good: 0.99,
            known_good: 0.95,
            known_good_bad: 0.999,
        }
    }
}

/// A revision tested before the search: its runs are evidence in it.
#[derive(Clone, Debug)]
pub(super) struct PreTest {
    pub(super) commit: CommitId,
    pub(super) config_hash: String,
    pub(super) build: BuildOutcome,
    pub(super) compiler: Option<String>,
    pub(super) runs: Vec<RunResult>,
    /// It was judged to have the bug (the start commit, a bad release):
    /// its runs say how often the bug fires.
    pub(super) buggy: bool,
}

/// What the search found, for the result.
#[derive(Clone, Debug, Default)]
pub(super) struct Conclusion {
    /// Overrides the engine's kind (unsure; none in the range: horizon).
    pub(super) kind: Option<OutcomeKind>,
    pub(super) confidence: f64,
    pub(super) repro_chance: f64,
    pub(super) runner_up: Option<Candidate>,
    pub(super) candidates: Vec<Candidate>,
    pub(super) verification: Option<Verification>,
    pub(super) horizon: Option<Commit>,
    pub(super) report: Option<ResultReport>,
}

/// The `bayes` strategy (see the module docs of [`super`]).
#[derive(Clone, Debug, Default)]
pub struct Bayes {
    pub(super) cfg: BayesConfig,
    pub(super) rules: RangeRules,
    /// Revisions tested before the search, in order.
    pub(super) pre: Vec<PreTest>,
    /// The start commit.
    pub(super) start: Option<Commit>,
    /// The release the walk ended on (judged good), by tag.
    pub(super) walk_good: Option<String>,
    pub(super) conclusion: Option<Conclusion>,
    /// Known-good commits built beside the start commit (a builder with
    /// several build slots), waiting to be judged.
    prebuilt: BTreeMap<CommitId, RevisionEvidence>,
}

impl Bayes {
    /// A strategy with these knobs (the slots are the job's `parallel`).
    pub fn with_config(cfg: BayesConfig, rules: RangeRules) -> Self {
        Bayes {
            cfg,
            rules,
            ..Bayes::default()
        }
    }

    /// The start commit's build; with several build slots the first
    /// known-good commit is built beside it (the range's other end is
    /// needed next whatever the start shows, unless it does not
    /// reproduce: then one build was spent for nothing, but no time).
    fn build_start(
        &mut self,
        cx: &mut Context<'_>,
        commit: &Commit,
    ) -> Result<RevisionEvidence, EngineError> {
        let mut batch = vec![commit.clone()];
        let s = cx.settings();
        if cx.build_slots() > 1 && !s.fix && s.baseline_config.is_none() {
            let first = s.known_good.first().cloned();
            if let Some(g) = first
                && let Ok(Some(id)) = cx.vcs().resolve(&g)
                && id != commit.id
            {
                batch.push(cx.vcs().commit(&id)?);
            }
        }
        let mut out = cx.build_ahead(&batch, Purpose::Start)?.into_iter();
        let first = out
            .next()
            .ok_or_else(|| EngineError::Internal(format!("no build of {} came back", commit.id)))?;
        for (c, ev) in batch[1..].iter().zip(out) {
            self.prebuilt.insert(c.id.clone(), ev);
        }
        Ok(first)
    }

    /// The runs of the revisions judged to have the bug so far (the start
    /// commit, bad releases), classified against the target.
    fn start_counts(&self, cx: &Context<'_>) -> Counts {
        let hash = cx.build_config().hash();
        let mut c = [0; 3];
        for t in self.pre.iter().filter(|t| t.buggy && t.config_hash == hash) {
            let obs: Vec<RunObs> = t.runs.iter().map(|r| classify(cx, r)).collect();
            let k = counts_of(&obs);
            for i in 0..3 {
                c[i] += k[i];
            }
        }
        c
    }

    /// The rates as the runs of the revisions with the bug tell them, in
    /// crash terms: the thetas and their weights.
    fn start_rates(&self, cx: &Context<'_>) -> (Vec<Theta>, Vec<f64>) {
        let th = thetas(&self.cfg.model, false);
        let c = self.start_counts(cx);
        let l: Vec<f64> = th
            .iter()
            .map(|t| t.prior.ln() + t.loglik(&c, true))
            .collect();
        let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut w: Vec<f64> = l.iter().map(|x| (x - m).exp()).collect();
        let z: f64 = w.iter().sum();
        if z > 0.0 && z.is_finite() {
            w.iter_mut().for_each(|x| *x /= z);
        } else {
            w = th.iter().map(|t| t.prior).collect();
        }
        (th, w)
    }

    /// P(has the bug | these runs alone), an even prior, the start's rates
    /// with p <= walk_p_max.
    fn own_bug(&self, th: &[Theta], w: &[f64], c: &Counts) -> f64 {
        let w = restricted(th, w, self.cfg.walk_p_max);
        own_runs_posterior(th, &w, c)
    }

    /// Fewest more runs (1..=slots) that would decide the revision if they
    /// came out as expected: crashes at the predicted rate when it already
    /// crashed, clean runs otherwise.
    fn needed(
        &self,
        th: &[Theta],
        w: &[f64],
        c: &Counts,
        slots: usize,
        good: f64,
        bad: f64,
    ) -> usize {
        let buggy = c[0] > 0;
        let rate: f64 = th
            .iter()
            .zip(w)
            .map(|(t, w)| w * if buggy { t.match_in } else { t.match_out })
            .sum::<f64>()
            .min(0.9);
        for n in 1..=slots {
            let hits = (rate * n as f64).round() as u32;
            let x = [c[0] + hits, c[1], c[2] + n as u32 - hits];
            let own = self.own_bug(th, w, &x);
            if own >= bad || own <= 1.0 - good {
                return n;
            }
        }
        slots
    }

    /// The start commit: run until it crashes (bounded).
    fn reproduce(
        &mut self,
        cx: &mut Context<'_>,
        rev: &mut RevisionEvidence,
    ) -> Result<(), EngineError> {
        let slots = cx.settings().parallel.max(1);
        let max = self.cfg.start_max_runs.max(1);
        let mut n = self.cfg.start_first_runs.clamp(1, max);
        loop {
            cx.run(rev, n)?;
            check_infra(&rev.runs)?;
            let crashed = rev.runs.iter().any(|r| cx.counts_as_crash(r).is_some());
            let informative = rev
                .runs
                .iter()
                .any(|r| matches!(r.outcome, RunOutcome::Ok) || cx.counts_as_crash(r).is_some());
            let untestable = !informative
                && rev.runs.iter().any(|r| {
                    matches!(
                        r.outcome,
                        RunOutcome::BootFailed { .. } | RunOutcome::TestFailed { .. }
                    )
                });
            if crashed || untestable || rev.runs.len() >= max {
                return Ok(());
            }
            n = slots.min(max - rev.runs.len());
        }
    }

    /// Any other revision: run until its own runs decide it (bounded).
    fn judge(
        &mut self,
        cx: &mut Context<'_>,
        rev: &mut RevisionEvidence,
        purpose: &Purpose,
    ) -> Result<(Verdict, f64), EngineError> {
        let slots = cx.settings().parallel.max(1);
        let (th, w) = self.start_rates(cx);
        let known_good = *purpose == Purpose::KnownGood;
        let (good, bad) = if known_good {
            (self.rules.known_good, self.rules.known_good_bad)
        } else {
            (self.rules.good, self.rules.bad)
        };
        let max = self.rules.max_runs.max(1);
        let probe = if known_good {
            self.rules.known_good_probe
        } else {
            self.rules.probe
        };
        let mut n = probe.clamp(1, max);
        loop {
            cx.run(rev, n)?;
            check_infra(&rev.runs)?;
            let obs: Vec<RunObs> = rev.runs.iter().map(|r| classify(cx, r)).collect();
            let c = counts_of(&obs);
            if c.iter().sum::<u32>() == 0 && obs.contains(&RunObs::Broken) {
                return Ok((Verdict::Skip, 0.5));
            }
            let own = self.own_bug(&th, &w, &c);
            if own >= bad {
                return Ok((Verdict::Bad, own));
            }
            if own <= 1.0 - good || (known_good && c[0] == 0) {
                return Ok((Verdict::Good, own));
            }
            if rev.runs.len() >= max {
                // Undecided at the bound: the likelier side. A release
                // wrongly called good is still inside the search's range
                // (it starts one release older), a wrongly bad one is
                // evidence like any other revision.
                let v = if own < 0.5 {
                    Verdict::Good
                } else {
                    Verdict::Bad
                };
                return Ok((v, own));
            }
            // Runs of the last batch that told nothing are made up for.
            let nothing = obs[obs.len() - n.min(obs.len())..]
                .iter()
                .filter(|o| o.slot().is_none())
                .count();
            n = (self.needed(&th, &w, &c, slots, good, bad) + nothing)
                .min(slots)
                .min(max - rev.runs.len());
        }
    }

    fn remember(&mut self, rev: &RevisionEvidence) {
        self.pre.push(PreTest {
            buggy: rev.verdict == Some(Verdict::Bad),
            commit: rev.commit.clone(),
            config_hash: rev.config_hash.clone(),
            build: rev.build.clone(),
            compiler: rev.compiler.clone(),
            runs: rev.runs.clone(),
        });
    }
}

/// Too many runs lost to the infrastructure: stop rather than guess.
pub(super) fn check_infra(runs: &[RunResult]) -> Result<(), EngineError> {
    let infra = runs
        .iter()
        .filter(|r| matches!(r.outcome, RunOutcome::Infra { .. }))
        .count();
    if infra * 2 > runs.len() {
        return Err(EngineError::InfraVerdict);
    }
    Ok(())
}

/// One run as the model sees it (the title rule of `model.rs`).
pub(super) fn classify(cx: &Context<'_>, r: &RunResult) -> RunObs {
    match &r.outcome {
        RunOutcome::Ok => RunObs::Ok,
        RunOutcome::Crashed(c) if cx.is_transient(c) => RunObs::Nothing,
        RunOutcome::Crashed(c) => match &cx.target().title {
            Some(t) if *t != c.title => RunObs::Other,
            _ => RunObs::Match,
        },
        RunOutcome::BootFailed { .. } | RunOutcome::TestFailed { .. } => RunObs::Broken,
        RunOutcome::Infra { .. } => RunObs::Nothing,
    }
}

/// Fills a record's crash fields from the crashes that count, in run order.
pub(super) fn set_crash(cx: &mut Context<'_>, rev: &mut RevisionEvidence, crashes: &[Crash]) {
    let rep = representative::pick(crashes);
    if let Some(i) = rep.index {
        cx.emit(Event::Representative {
            title: crashes[i].title.clone(),
            types: rep.types.clone(),
        });
        rev.crash = Some(crashes[i].clone());
        rev.report = rev.crash.as_ref().map(ResultReport::of_crash);
    }
    rev.crash_types = rep.types;
}

impl Strategy for Bayes {
    fn name(&self) -> &'static str {
        "bayes"
    }

    fn test_revision(
        &mut self,
        cx: &mut Context<'_>,
        commit: &Commit,
        purpose: Purpose,
    ) -> Result<RevisionEvidence, EngineError> {
        if purpose == Purpose::Start && self.start.is_none() {
            self.start = Some(commit.clone());
        }
        let mut rev = if purpose == Purpose::Start {
            self.build_start(cx, commit)?
        } else if let Some(mut r) = self.prebuilt.remove(&commit.id) {
            r.purpose = purpose.clone();
            cx.announce_build(&r);
            r
        } else {
            cx.build(commit, purpose.clone())?
        };
        rev.verdict = Some(Verdict::Skip);
        if rev.build.built().is_none() {
            self.remember(&rev);
            return Ok(cx.record(rev));
        }
        let judged = if purpose == Purpose::Start {
            self.reproduce(cx, &mut rev).map(|()| None)
        } else {
            self.judge(cx, &mut rev, &purpose).map(Some)
        };
        if let Err(e) = judged {
            self.remember(&rev);
            cx.record(rev);
            return Err(e);
        }
        let (counts, crashes) = count_runs(cx, &mut rev);
        if counts.good + counts.bad > 0 {
            rev.bad_ratio = counts.bad as f64 / (counts.good + counts.bad) as f64;
        }
        let verdict = match judged {
            Ok(Some((v, own))) => {
                let obs: Vec<RunObs> = rev.runs.iter().map(|r| classify(cx, r)).collect();
                let c = counts_of(&obs);
                cx.emit(Event::Judged {
                    commit: rev.commit.clone(),
                    has_bug: own,
                    crashed: c[0] as usize,
                    runs: c.iter().sum::<u32>() as usize,
                });
                v
            }
            _ if !crashes.is_empty() => Verdict::Bad,
            _ if counts.good > 0 => Verdict::Good,
            _ => Verdict::Skip,
        };
        if verdict == Verdict::Bad {
            set_crash(cx, &mut rev, &crashes);
        } else if verdict == Verdict::Skip {
            rev.report = Some(ResultReport::untested(&rev.commit));
        }
        rev.verdict = Some(verdict);
        cx.emit(Event::Verdict {
            commit: rev.commit.clone(),
            verdict,
            false_negative: None,
        });
        if verdict == Verdict::Good
            && let Purpose::Release { tag } = &purpose
        {
            self.walk_good = Some(tag.clone());
        }
        self.remember(&rev);
        Ok(cx.record(rev))
    }

    fn search(
        &mut self,
        cx: &mut Context<'_>,
        bad: &Commit,
        good: &[Commit],
    ) -> Result<Vec<Commit>, EngineError> {
        self.run_search(cx, bad, good)
    }

    fn conclude(&self, result: &mut BisectResult) {
        let Some(c) = &self.conclusion else {
            // Ended before the search: the range phase decided.
            result.confidence = 1.0;
            result.repro_chance = 1.0;
            result.flaky = false;
            return;
        };
        result.confidence = c.confidence;
        result.repro_chance = c.repro_chance;
        result.flaky = c.repro_chance < FLAKY_BELOW;
        result.runner_up = c.runner_up.clone();
        result.candidates = c.candidates.clone();
        result.verification = c.verification.clone();
        if let Some(k) = c.kind {
            result.kind = k;
        }
        if c.horizon.is_some() {
            result.horizon = c.horizon.clone();
        }
        if result.report.is_none() {
            result.report = c.report.clone();
        }
    }

    fn flaky_estimate(&self) -> Option<f64> {
        self.conclusion
            .as_ref()
            .map(|c| c.repro_chance)
            .filter(|p| *p < FLAKY_BELOW)
    }
}

/// A reproducer whose estimated repro chance is below this is called flaky.
const FLAKY_BELOW: f64 = 0.9;
