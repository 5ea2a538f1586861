//! Finding the range to bisect: config minimization, the release walk
//! (cause), HEAD and the cross-tree merge base (fix), and the results that
//! end a bisection before it starts.

use std::collections::HashMap;

use kbisect_git::{Commit, CommitId};

use super::{Engine, Range, Tested};
use crate::error::EngineError;
use crate::events::Event;
use crate::model::{KernelConfig, Verdict};
use crate::releases::{pick_release_tags, usable_tags};
use crate::result::{OutcomeKind, Purpose};

/// The range phase's findings: the bad end (if any), the good end(s), and
/// every revision tested on the way.
type Ends = (Option<Commit>, Vec<Commit>, Vec<Tested>);

/// A minimized config must reproduce at least this often, or at least as
/// often as the original.
const MIN_BAD_RATIO: f64 = 1.0 / 3.0;

impl Engine<'_> {
    /// Runs the config minimizer against the baseline, if both exist.
    /// Returns the start commit's result with the new config when it crashed.
    pub(super) fn minimize_config(
        &mut self,
        start: &Commit,
    ) -> Result<Option<Tested>, EngineError> {
        let Some(baseline) = self.cfg.baseline_config.clone() else {
            return Ok(None);
        };
        let Some(minimizer) = self.minimizer.take() else {
            return Ok(None);
        };
        let original = self.cfg.config.clone();
        let types = self.report_types.clone();
        let mut crashed: HashMap<String, Tested> = HashMap::new();
        let res = minimizer.minimize(&original, &baseline, &types, &mut |cand: &KernelConfig| {
            self.kernel_config = cand.clone();
            let t = self.test(start, Purpose::ConfigMinimization)?;
            if t.verdict == Verdict::Bad
                && t.bad_ratio < MIN_BAD_RATIO
                && t.bad_ratio < self.repro_chance
            {
                return Ok(Verdict::Skip);
            }
            if t.verdict == Verdict::Bad {
                crashed.insert(cand.hash(), t.clone());
            }
            Ok(t.verdict)
        });
        self.minimizer = Some(minimizer);
        let config = res.map_err(|e| match e {
            EngineError::Minimize(m) => EngineError::Minimize(m),
            EngineError::Infra(_) | EngineError::Interrupted | EngineError::Timeout(_) => e,
            other => EngineError::Minimize(other.to_string()),
        })?;
        self.kernel_config = config;
        Ok(crashed.remove(&self.kernel_config.hash()))
    }

    pub(super) fn commit_range(
        &mut self,
        start: &Commit,
        known_good: Vec<CommitId>,
    ) -> Result<Range, EngineError> {
        if !self.cfg.fix && !known_good.is_empty() {
            return self.known_good_range(start, known_good);
        }
        let (bad, good, results) = if self.cfg.fix {
            self.range_for_fix(start, known_good)?
        } else {
            self.range_for_cause(start)?
        };
        for t in &results {
            self.remember(t.clone());
        }
        self.validate_range(bad, good, &results)
    }

    /// The user's known-good commits replace the release walk. They are
    /// tested all the same: a "good" commit that crashes would send the whole
    /// bisection the wrong way.
    fn known_good_range(
        &mut self,
        start: &Commit,
        known_good: Vec<CommitId>,
    ) -> Result<Range, EngineError> {
        let mut goods = Vec::new();
        for id in known_good {
            let com = self.vcs.commit(&id)?;
            self.note(format!("testing known-good commit {id}"));
            let t = self.test(&com, Purpose::KnownGood)?;
            match t.verdict {
                Verdict::Bad => {
                    return Err(EngineError::BadRange(format!(
                        "the known-good commit {} crashes",
                        id.short()
                    )));
                }
                Verdict::Skip => {
                    self.note(format!(
                        "known-good commit {id} could not be tested; trusting it"
                    ));
                }
                Verdict::Good => {}
            }
            self.remember(t);
            goods.push(com);
        }
        Ok(Range::Bisect {
            bad: Box::new(start.clone()),
            good: goods,
        })
    }

    fn range_for_cause(&mut self, start: &Commit) -> Result<Ends, EngineError> {
        let mut results = Vec::new();
        let tags = self.vcs.release_tags_before(&start.id)?;
        let tags = usable_tags(&tags, self.cfg.compiler_horizon.as_deref());
        if tags.is_empty() {
            return Err(EngineError::NoReleaseTags);
        }
        let picked = pick_release_tags(&tags);
        self.note(format!(
            "picked [{}] out of {} release tags",
            picked.join(" "),
            tags.len()
        ));
        let mut last_bad = start.clone();
        for tag in picked {
            self.emit(Event::TestingRelease { tag: tag.clone() });
            let id = self
                .vcs
                .resolve(&tag)?
                .ok_or_else(|| EngineError::UnknownRevision { rev: tag.clone() })?;
            let com = self.vcs.commit(&id)?;
            let t = self.test(&com, Purpose::Release { tag })?;
            let v = t.verdict;
            results.push(t);
            match v {
                Verdict::Good => return Ok((Some(last_bad), vec![com], results)),
                Verdict::Bad => last_bad = com,
                Verdict::Skip => {}
            }
        }
        Ok((Some(last_bad), Vec::new(), results))
    }

    fn range_for_fix(
        &mut self,
        start: &Commit,
        known_good: Vec<CommitId>,
    ) -> Result<Ends, EngineError> {
        let mut results = Vec::new();
        let mut start_commit = start.clone();
        let head_id = match known_good.first() {
            Some(id) => id.clone(),
            None => self.vcs.branch_head()?,
        };
        let head = self.vcs.commit(&head_id)?;
        if self.cfg.cross_tree {
            self.note(format!(
                "determining the merge base between {} and {}",
                start.id, head.id
            ));
            let bases = self.vcs.merge_bases(&start.id, &head.id)?;
            if bases.len() != 1 {
                self.note(format!("expected 1 merge base, got {}", bases.len()));
                return Err(EngineError::MergeBases(bases.len()));
            }
            let base = self.vcs.commit(&bases[0])?;
            self.note(format!(
                "{}/{} is a merge base, check if it has the bug",
                base.id, base.title
            ));
            let t = self.test(&base, Purpose::MergeBase)?;
            let v = t.verdict;
            results.push(t);
            if v != Verdict::Bad {
                return Ok((None, vec![base], results));
            }
            start_commit = base;
        }
        self.note(format!("testing current HEAD {}", head.id));
        let t = self.test(&head, Purpose::Head)?;
        let v = t.verdict;
        results.push(t);
        if v != Verdict::Good {
            return Ok((Some(head), Vec::new(), results));
        }
        Ok((Some(head), vec![start_commit], results))
    }

    /// syzkaller's validateCommitRange: results that end the bisection here.
    fn validate_range(
        &mut self,
        bad: Option<Commit>,
        good: Vec<Commit>,
        results: &[Tested],
    ) -> Result<Range, EngineError> {
        let Some(last) = results.last() else {
            return Err(EngineError::Internal(
                "the range phase tested nothing".into(),
            ));
        };
        if self.cfg.fix && self.cfg.cross_tree && results.len() < 2 {
            self.note("reproducer does not crash the merge base, so there's no known bad commit");
            let mut r = self.result(OutcomeKind::Horizon);
            r.horizon = good.first().cloned();
            return Ok(Range::Done(Box::new(r)));
        }
        let Some(bad) = bad else {
            return Err(EngineError::Internal("no bad end of the range".into()));
        };
        match last.verdict {
            Verdict::Bad => {
                self.note("crash still not fixed/happens on the oldest tested release");
                let mut r = self.result(OutcomeKind::Horizon);
                r.report = last.report.clone();
                r.horizon = Some(bad);
                Ok(Range::Done(Box::new(r)))
            }
            Verdict::Skip if self.cfg.fix => {
                self.note("HEAD had kernel build, boot or test errors");
                let mut r = self.result(OutcomeKind::Horizon);
                r.report = last.report.clone();
                r.horizon = Some(bad);
                Ok(Range::Done(Box::new(r)))
            }
            Verdict::Skip => Err(EngineError::OldestReleaseBroken),
            Verdict::Good if good.is_empty() => Err(EngineError::Internal(
                "a good verdict without a good commit".into(),
            )),
            Verdict::Good => Ok(Range::Bisect {
                bad: Box::new(bad),
                good,
            }),
        }
    }
}
