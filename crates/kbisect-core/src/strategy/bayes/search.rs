//! The search: the range as the [`Machine`] sees it (indices, parents
//! first), every revision tested so far preloaded as evidence, then the
//! machine's rounds carried out through the [`Context`] — at most one new
//! build a round, then every run of the round in one batch over the job's
//! slots — each revision recorded once per round it ran in.

use std::collections::{BTreeMap, BTreeSet};

use kbisect_git::{Commit, CommitId, Dag};

use super::machine::{Action, BuildResult, Job, Machine, Outcome, Report, Rev, Role};
use super::model::RunObs;
use super::posterior::Hyp;
use super::strategy::{Bayes, Conclusion, check_infra, classify, set_crash};
use crate::Verdict;
use crate::engine::{Context, count_runs};
use crate::error::EngineError;
use crate::events::{Event, FoldReason};
use crate::model::{BuildOutcome, Crash};
use crate::releases::{pick_releases, usable_tags};
use crate::result::{
    Candidate, OutcomeKind, Purpose, ResultReport, RevisionEvidence, Verification, VerificationRow,
    VerifyRole,
};

/// The range: commit ids by index (parents first) and back.
pub(super) struct Range {
    pub(super) ids: Vec<CommitId>,
    index: BTreeMap<CommitId, u32>,
    pub(super) parents: Vec<Vec<u32>>,
}

impl Range {
    /// From a [`Dag`] (rev-list order, newest first): its order reversed
    /// when that puts parents first (git's usual order), else a
    /// depth-first topological order. Either way the index order is what
    /// `dag.rs` walks, so git's choice agrees with the other strategies'.
    pub(super) fn new(dag: &Dag) -> Range {
        let n = dag.commits.len();
        let reversed_ok = dag
            .parents
            .iter()
            .enumerate()
            .all(|(k, ps)| ps.iter().all(|&p| p as usize > k));
        let order: Vec<u32> = if reversed_ok {
            (0..n as u32).rev().collect()
        } else {
            crate::dag::topo_order_from(&dag.parents, 0..dag.parents.len() as u32)
        };
        let mut pos = vec![0u32; n];
        for (i, &k) in order.iter().enumerate() {
            pos[k as usize] = i as u32;
        }
        let ids: Vec<CommitId> = order
            .iter()
            .map(|&k| dag.commits[k as usize].clone())
            .collect();
        let parents = order
            .iter()
            .map(|&k| {
                dag.parents[k as usize]
                    .iter()
                    .map(|&p| pos[p as usize])
                    .collect()
            })
            .collect();
        let index = ids
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i as u32))
            .collect();
        Range {
            ids,
            index,
            parents,
        }
    }

    pub(super) fn index(&self, id: &CommitId) -> Option<u32> {
        self.index.get(id).copied()
    }
}

/// Rounds of runs made again when a revision's runs told nothing.
const NOTHING_RETRIES: usize = 2;

/// A build the search has, by commit.
#[derive(Clone)]
struct Built {
    outcome: BuildOutcome,
    compiler: Option<String>,
}

/// The search's bookkeeping next to the machine.
struct Driver {
    m: Machine,
    range: Range,
    /// Commit of each revision the machine named.
    rev_commit: BTreeMap<Rev, CommitId>,
    built: BTreeMap<CommitId, Built>,
    /// The commit first built with each signature.
    sig_owner: BTreeMap<String, CommitId>,
    /// Builds that said which files they used (the fold test asks the
    /// builder about them).
    used: Vec<crate::model::Build>,
    fold_checked: BTreeSet<u32>,
    /// Crashes that count, per commit, in the order they were seen.
    crashes: BTreeMap<CommitId, Vec<Crash>>,
    titles: BTreeMap<CommitId, String>,
    config_hash: String,
    fix: bool,
}

impl Bayes {
    /// The search between `bad` and `good` (see the module docs).
    pub(super) fn run_search(
        &mut self,
        cx: &mut Context<'_>,
        bad: &Commit,
        good: &[Commit],
    ) -> Result<Vec<Commit>, EngineError> {
        let fix = cx.settings().fix;
        // Cause: the range reaches up to the start commit, so the release
        // walk's bad releases are binaries inside it (a wrong "bad" is
        // just evidence); fix: the fixed end.
        let head = if fix {
            bad.clone()
        } else {
            self.start.clone().unwrap_or_else(|| bad.clone())
        };
        let mut goods: Vec<CommitId> = good.iter().map(|c| c.id.clone()).collect();
        if !fix && let Some(older) = self.wider_good(cx, &goods)? {
            goods = vec![older];
        }
        let dag = cx.vcs().dag(&head.id, &goods)?;
        let range = Range::new(&dag);
        let Some(head_ix) = range.index(&head.id) else {
            return Err(EngineError::Internal(format!(
                "the head {} is not in its own range",
                head.id
            )));
        };
        let mut rd =
            super::graph::RangeDag::new(range.parents.clone(), vec![false; range.ids.len()])
                .map_err(|e| EngineError::Internal(e.to_string()))?;
        // A root of the range has its parents outside; merges are asked
        // about (Describe) when they are to be verified.
        rd.has_outside_parent = range.parents.iter().map(|p| p.is_empty()).collect();
        let mut cfg = self.cfg.clone();
        cfg.slots = cx.settings().parallel.max(1);
        cfg.build_slots = cx.build_slots();
        cfg.confidence = cx.settings().confidence;
        // Verification rows are decided at the job's target too; when the
        // reproducer is flaky, at a five times smaller error (0.95 -> 0.99).
        cfg.verify_confidence = cfg.confidence;
        cfg.verify_confidence_flaky = 1.0 - (1.0 - cfg.confidence) / 5.0;
        let m = Machine::new(rd, head_ix, cfg, fix, false);
        let mut d = Driver {
            m,
            range,
            rev_commit: BTreeMap::new(),
            built: BTreeMap::new(),
            sig_owner: BTreeMap::new(),
            used: Vec::new(),
            fold_checked: BTreeSet::new(),
            crashes: BTreeMap::new(),
            titles: BTreeMap::new(),
            config_hash: cx.build_config().hash(),
            fix,
        };
        let preloaded = self.preload(cx, &mut d);
        cx.emit(Event::SearchStarted {
            head: head.id.clone(),
            goods: goods.clone(),
            commits: d.range.ids.len(),
            preloaded,
            confidence: cx.settings().confidence,
        });
        d.m.skip_start();
        let report = d.drive(cx)?;
        self.finish(cx, &mut d, report, &goods)
    }

    /// After the release walk ended on a good release, the range starts at
    /// the next older release picked instead: the walk's good release is
    /// then a binary inside the range whose clean runs are evidence, not a
    /// boundary, so a flaky bug that happened not to crash there can still
    /// be found.
    fn wider_good(
        &self,
        cx: &Context<'_>,
        goods: &[CommitId],
    ) -> Result<Option<CommitId>, EngineError> {
        let (Some(tag), Some(start), [good]) = (&self.walk_good, &self.start, goods) else {
            return Ok(None);
        };
        let tags = cx.vcs().release_tags_before(&start.id)?;
        let usable = usable_tags(&tags, cx.settings().compiler_horizon.as_deref());
        let picked = pick_releases(&usable);
        let Some(older) = picked
            .iter()
            .position(|t| t == tag)
            .and_then(|i| picked.get(i + 1))
        else {
            return Ok(None);
        };
        let Some(id) = cx.vcs().resolve(older)? else {
            return Ok(None);
        };
        if &id == good || !cx.vcs().is_ancestor(&id, good)? {
            return Ok(None);
        }
        Ok(Some(id))
    }

    /// Every revision tested before the search (with the config in force)
    /// becomes a binary of the posterior, with its runs.
    fn preload(&self, cx: &Context<'_>, d: &mut Driver) -> usize {
        let mut outside = 0u32;
        let mut n = 0;
        let hash = d.config_hash.clone();
        for t in self.pre.iter().filter(|t| t.config_hash == hash) {
            let rev = match d.range.index(&t.commit) {
                Some(i) => Rev::Commit(i),
                None => match d.rev_commit.iter().find(|(_, c)| **c == t.commit) {
                    Some((r, _)) => *r,
                    None => {
                        outside += 1;
                        Rev::Outside(outside - 1)
                    }
                },
            };
            d.rev_commit.insert(rev, t.commit.clone());
            if !d.m.is_known(rev) {
                d.m.built(rev, build_result(&t.build, false));
                d.note_build(&t.commit, &t.build, t.compiler.clone());
            }
            let obs: Vec<RunObs> = t.runs.iter().map(|r| classify(cx, r)).collect();
            d.m.ran(rev, &obs);
            let crashes = d.crashes.entry(t.commit.clone()).or_default();
            crashes.extend(t.runs.iter().filter_map(|r| cx.counts_as_crash(r).cloned()));
            n += 1;
        }
        n
    }

    /// The machine's report as the strategy's answer.
    fn finish(
        &mut self,
        cx: &mut Context<'_>,
        d: &mut Driver,
        rep: Report,
        goods: &[CommitId],
    ) -> Result<Vec<Commit>, EngineError> {
        let mut c = Conclusion {
            repro_chance: rep.p_mean,
            ..Conclusion::default()
        };
        let commits = match &rep.outcome {
            Outcome::Culprit {
                commit,
                posterior,
                runner_up,
                verified,
                table,
            } => {
                let id = d.range.ids[*commit as usize].clone();
                let culprit = cx.vcs().commit(&id)?;
                let rows = table
                    .iter()
                    .map(|r| VerificationRow {
                        role: match r.role {
                            Role::Culprit => VerifyRole::Culprit,
                            Role::Parent => VerifyRole::Parent,
                        },
                        commit: d
                            .rev_commit
                            .get(&r.rev)
                            .cloned()
                            .unwrap_or_else(|| id.clone()),
                        crashed: r.crashed as usize,
                        runs: r.runs as usize,
                        posterior: r.own_posterior,
                        decided: r.decided,
                    })
                    .collect();
                let verification = Verification {
                    rows,
                    verified: *verified,
                };
                cx.emit(Event::Verified {
                    verification: verification.clone(),
                });
                c.confidence = *posterior;
                c.runner_up = match runner_up {
                    Some(r) => Some(d.candidate(cx, *r)?),
                    None => None,
                };
                c.candidates = d.ranked(cx, 5)?;
                c.verification = Some(verification);
                let diffstat = cx.vcs().diffstat(&id)?;
                cx.emit(Event::FirstBad {
                    commit: Box::new(culprit.clone()),
                    diffstat,
                });
                vec![culprit]
            }
            Outcome::Unsure { top } => {
                c.kind = Some(OutcomeKind::Unsure);
                c.candidates = top
                    .iter()
                    .map(|h| d.candidate(cx, *h))
                    .collect::<Result<_, _>>()?;
                c.confidence = top.first().map_or(0.0, |t| t.1);
                c.runner_up = c.candidates.get(1).cloned();
                let mut out = Vec::new();
                for cand in &c.candidates {
                    if let Some(id) = &cand.commit {
                        out.push(cx.vcs().commit(id)?);
                    }
                }
                out
            }
            Outcome::NotInRange { posterior } => {
                c.kind = Some(OutcomeKind::Horizon);
                c.confidence = *posterior;
                c.candidates = d.ranked(cx, 3)?;
                c.horizon = match goods.first() {
                    Some(g) => Some(cx.vcs().commit(g)?),
                    None => None,
                };
                let start = self.start.as_ref().map(|s| s.id.clone());
                c.report = start
                    .and_then(|s| d.crashes.get(&s))
                    .and_then(|cr| cr.first())
                    .map(ResultReport::of_crash);
                Vec::new()
            }
            Outcome::NotReproduced { .. } | Outcome::StartBroken => {
                return Err(EngineError::NotReproduced);
            }
        };
        self.conclusion = Some(c);
        Ok(commits)
    }
}

/// A build outcome in the machine's terms.
fn build_result(b: &BuildOutcome, reused: bool) -> BuildResult {
    match b {
        BuildOutcome::Failed(_) => BuildResult::Failed,
        BuildOutcome::Built(x) => {
            let signature = x.signature.as_ref().map(|s| s.0.clone());
            if reused {
                BuildResult::Reused { signature }
            } else {
                BuildResult::Built { signature }
            }
        }
    }
}

impl Driver {
    fn note_build(&mut self, commit: &CommitId, b: &BuildOutcome, compiler: Option<String>) {
        if let BuildOutcome::Built(x) = b {
            if x.files_used.is_some() && !self.built.contains_key(commit) {
                self.used.push(x.clone());
            }
            if let Some(s) = &x.signature {
                self.sig_owner
                    .entry(s.0.clone())
                    .or_insert_with(|| commit.clone());
            }
        }
        self.built.entry(commit.clone()).or_insert(Built {
            outcome: b.clone(),
            compiler,
        });
    }

    fn title(&mut self, cx: &Context<'_>, id: &CommitId) -> Result<String, EngineError> {
        if let Some(t) = self.titles.get(id) {
            return Ok(t.clone());
        }
        let t = cx.vcs().commit(id)?.title;
        self.titles.insert(id.clone(), t.clone());
        Ok(t)
    }

    fn candidate(
        &mut self,
        cx: &Context<'_>,
        (h, w): (Hyp, f64),
    ) -> Result<Candidate, EngineError> {
        Ok(match h {
            Hyp::Commit(i) => {
                let id = self.range.ids[i as usize].clone();
                Candidate {
                    title: self.title(cx, &id)?,
                    commit: Some(id),
                    posterior: w,
                }
            }
            Hyp::Old => Candidate {
                commit: None,
                title: String::new(),
                posterior: w,
            },
        })
    }

    fn ranked(&mut self, cx: &Context<'_>, k: usize) -> Result<Vec<Candidate>, EngineError> {
        let top = self.m.posterior().top(k);
        top.into_iter().map(|h| self.candidate(cx, h)).collect()
    }

    /// Commit `r` touches no file the builds used (the builder decides, see
    /// [`crate::Builder::may_change_binary`]): it cannot change the binary
    /// (its first parent in the range has the same one).
    fn foldable(&mut self, cx: &Context<'_>, r: u32) -> Result<bool, EngineError> {
        if self.used.is_empty()
            || self.range.parents[r as usize].is_empty()
            || !self.fold_checked.insert(r)
        {
            return Ok(false);
        }
        let changed = cx.vcs().changed_files(&self.range.ids[r as usize])?;
        Ok(!changed.is_empty() && !self.used.iter().any(|b| cx.may_change_binary(b, &changed)))
    }

    /// The commit a revision stands for; `None`: a parent outside the
    /// range that does not exist (a root of the repository).
    fn commit_of(&mut self, cx: &Context<'_>, rev: Rev) -> Result<Option<CommitId>, EngineError> {
        if let Some(c) = self.rev_commit.get(&rev) {
            return Ok(Some(c.clone()));
        }
        let id = match rev {
            Rev::Commit(i) => Some(self.range.ids[i as usize].clone()),
            Rev::OutsideParent(i) => {
                let c = cx.vcs().commit(&self.range.ids[i as usize])?;
                c.parents
                    .iter()
                    .find(|p| self.range.index(p).is_none())
                    .cloned()
            }
            Rev::Outside(_) => None,
        };
        if let Some(id) = &id {
            self.rev_commit.insert(rev, id.clone());
        }
        Ok(id)
    }

    /// The machine's rounds, carried out.
    fn drive(&mut self, cx: &mut Context<'_>) -> Result<Report, EngineError> {
        loop {
            cx.check_timeout()?;
            let jobs = match self.m.next_action() {
                Action::Done(rep) => return Ok(rep),
                Action::Describe(c) => {
                    let commit = cx.vcs().commit(&self.range.ids[c as usize])?;
                    let outside = commit.parents.iter().any(|p| self.range.index(p).is_none());
                    self.m.describe(c, outside);
                    continue;
                }
                Action::Run(jobs) => jobs,
            };
            // A commit that cannot change the binary is folded, not built:
            // the machine then plans the round again.
            let mut replan = false;
            for j in jobs.iter().filter(|j| j.build) {
                if let Rev::Commit(r) = j.rev
                    && self.foldable(cx, r)?
                {
                    self.m.fold(r);
                    let into = self.m.dag().binary_of(r);
                    cx.emit(Event::Folded {
                        commit: self.range.ids[r as usize].clone(),
                        into: self.range.ids[into as usize].clone(),
                        reason: FoldReason::FilesUnused,
                    });
                    replan = true;
                }
            }
            if !replan {
                self.round(cx, &jobs)?;
            }
        }
    }

    /// One round: its build (if any), then all its runs in one batch.
    fn round(&mut self, cx: &mut Context<'_>, jobs: &[Job]) -> Result<(), EngineError> {
        let purpose = if self.m.verifying() {
            Purpose::Verify
        } else {
            Purpose::Bisect
        };
        let mut records: Vec<(Rev, RevisionEvidence, usize)> = Vec::new();
        // The round's new builds go to the builder together (a builder
        // with several build slots makes them at once).
        let mut ids: Vec<Option<CommitId>> = Vec::with_capacity(jobs.len());
        let mut to_build: Vec<Commit> = Vec::new();
        for j in jobs {
            let id = self.commit_of(cx, j.rev)?;
            if let Some(id) = &id
                && j.build
                && !self.m.is_known(j.rev)
                && !self.built.contains_key(id)
                && !to_build.iter().any(|c| &c.id == id)
            {
                to_build.push(cx.vcs().commit(id)?);
            }
            ids.push(id);
        }
        let mut fresh_builds: BTreeMap<CommitId, RevisionEvidence> = BTreeMap::new();
        if !to_build.is_empty() {
            let evs = cx.build_many(&to_build, purpose.clone())?;
            for (c, ev) in to_build.iter().zip(evs) {
                fresh_builds.insert(c.id.clone(), ev);
            }
        }
        for (j, id) in jobs.iter().zip(ids) {
            let Some(id) = id else {
                self.m.built(j.rev, BuildResult::Failed);
                continue;
            };
            let mut fresh = None;
            if j.build && !self.m.is_known(j.rev) {
                if let Some(b) = self.built.get(&id) {
                    self.m.built(j.rev, build_result(&b.outcome, true));
                } else if let Some(ev) = fresh_builds.remove(&id) {
                    self.m.built(j.rev, build_result(&ev.build, false));
                    if let BuildOutcome::Built(b) = &ev.build
                        && let Some(s) = &b.signature
                        && let Some(owner) = self.sig_owner.get(&s.0)
                    {
                        cx.emit(Event::Folded {
                            commit: id.clone(),
                            into: owner.clone(),
                            reason: FoldReason::SameSignature,
                        });
                    }
                    self.note_build(&id, &ev.build, ev.compiler.clone());
                    fresh = Some(ev);
                }
            }
            let runs = if self.m.is_built(j.rev) { j.runs } else { 0 };
            let ev = match fresh {
                Some(ev) => ev,
                None if runs == 0 => continue,
                None => self.record_for(cx, &id, purpose.clone())?,
            };
            if ev.build.built().is_none() || runs == 0 {
                let mut ev = ev;
                ev.verdict = Some(Verdict::Skip);
                if ev.report.is_none() {
                    ev.report = Some(ResultReport::untested(&ev.commit));
                }
                cx.record(ev);
                continue;
            }
            records.push((j.rev, ev, runs));
        }
        if records.is_empty() {
            return Ok(());
        }
        let res = {
            let mut batch: Vec<(&mut RevisionEvidence, usize)> =
                records.iter_mut().map(|(_, ev, n)| (ev, *n)).collect();
            cx.run_many(&mut batch)
        };
        if let Err(e) = res {
            for (_, ev, _) in records {
                cx.record(ev);
            }
            return Err(e);
        }
        // Runs that told nothing (transient crashes, lost runs) are made
        // again, twice as many, at most twice: the machine would only ask
        // for the same runs again.
        let slots = cx.settings().parallel.max(1);
        for _ in 0..NOTHING_RETRIES {
            let mut again: Vec<(&mut RevisionEvidence, usize)> = Vec::new();
            for (_, ev, n) in records.iter_mut() {
                let tail = &ev.runs[ev.runs.len().saturating_sub(*n)..];
                let told = tail.iter().any(|r| {
                    matches!(
                        classify(cx, r),
                        RunObs::Ok | RunObs::Match | RunObs::Other | RunObs::Broken
                    )
                });
                if !told && !tail.is_empty() {
                    *n = (*n * 2).min(slots);
                    again.push((ev, *n));
                }
            }
            if again.is_empty() {
                break;
            }
            if let Err(e) = cx.run_many(&mut again) {
                for (_, ev, _) in records {
                    cx.record(ev);
                }
                return Err(e);
            }
        }
        let mut lost = None;
        for (rev, ev, _) in &records {
            if let Err(e) = check_infra(&ev.runs) {
                lost = Some(e);
            }
            let obs: Vec<RunObs> = ev.runs.iter().map(|r| classify(cx, r)).collect();
            self.m.ran(*rev, &obs);
        }
        for (rev, mut ev, _) in records {
            let (counts, new_crashes) = count_runs(cx, &mut ev);
            let all = self.crashes.entry(ev.commit.clone()).or_default();
            all.extend(new_crashes);
            let crashes = all.clone();
            let c = self.m.counts(rev);
            let p = self.m.contains(rev);
            let usable = (c[0] + c[1] + c[2]) as usize;
            if usable > 0 {
                ev.bad_ratio = (c[0] + c[1]) as f64 / usable as f64;
            } else if counts.good + counts.bad > 0 {
                ev.bad_ratio = counts.bad as f64 / (counts.good + counts.bad) as f64;
            }
            // The verdict in crash terms, as far as the posterior decided.
            let decided = self.m.config().git_decided;
            let contains = if p >= 1.0 - decided {
                Some(true)
            } else if p <= decided {
                Some(false)
            } else {
                None
            };
            let verdict = match contains {
                Some(x) if x != self.fix => Verdict::Bad,
                Some(_) => Verdict::Good,
                None => Verdict::Skip,
            };
            set_crash(cx, &mut ev, &crashes);
            if ev.crash.is_none() && verdict == Verdict::Skip {
                ev.report = Some(ResultReport::untested(&ev.commit));
            }
            ev.verdict = Some(verdict);
            cx.emit(Event::Contains {
                commit: ev.commit.clone(),
                probability: p,
                crashed: c[0] as usize,
                runs: usable,
            });
            cx.record(ev);
        }
        if let Some(e) = lost {
            return Err(e);
        }
        let top = self.m.posterior().top(2);
        let mut cands = Vec::new();
        for h in top {
            cands.push(self.candidate(cx, h)?);
        }
        let mut it = cands.into_iter();
        if let Some(best) = it.next() {
            let rep = self.m.posterior().p_mean();
            cx.emit(Event::Posterior {
                best,
                runner_up: it.next(),
                repro_chance: rep,
                builds: self.m.builds_made(),
                runs: self.m.runs_made(),
            });
        }
        Ok(())
    }

    /// A fresh record for more runs on a commit built before.
    fn record_for(
        &self,
        cx: &Context<'_>,
        id: &CommitId,
        purpose: crate::result::Purpose,
    ) -> Result<RevisionEvidence, EngineError> {
        let commit = cx.vcs().commit(id)?;
        let b = self.built.get(id).ok_or_else(|| {
            EngineError::Internal(format!("runs asked for {id}, which was never built"))
        })?;
        Ok(RevisionEvidence::built(
            &commit,
            purpose,
            self.config_hash.clone(),
            b.compiler.clone(),
            b.outcome.clone(),
        ))
    }
}
