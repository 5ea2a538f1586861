//! Finding the range to bisect: config minimization, the release walk
//! (cause), HEAD and the cross-tree merge base (fix), and the results that
//! end a bisection before it starts. Every revision is judged by the
//! strategy, so its runs are evidence like any other.

use std::collections::HashMap;

use kbisect_git::{Commit, CommitId};

use super::{Engine, Range};
use crate::error::{BadRange, EngineError};
use crate::events::{Event, RangeEnd};
use crate::model::{BuildConfig, Verdict};
use crate::releases::{pick_releases, usable_tags};
use crate::result::{OutcomeKind, Purpose, RevisionEvidence};

/// The range phase's findings: the bad end (if any), the good end(s), and
/// every revision tested on the way.
type Ends = (Option<Commit>, Vec<Commit>, Vec<RevisionEvidence>);

/// A minimized config must reproduce at least this often, or at least as
/// often as the original.
const MIN_BAD_RATIO: f64 = 1.0 / 3.0;

impl Engine<'_> {
    /// Runs the config minimizer against the baseline, if both exist.
    /// Returns the start commit's result with the new config when it crashed.
    pub(super) fn minimize_config(
        &mut self,
        start: &Commit,
    ) -> Result<Option<RevisionEvidence>, EngineError> {
        let Some(baseline) = self.cx.cfg.baseline_config.clone() else {
            return Ok(None);
        };
        let Some(minimizer) = self.minimizer.take() else {
            return Ok(None);
        };
        let original = self.cx.cfg.config.clone();
        let types = self.cx.target.types.clone();
        let start_ratio = self.cx.result_of(&start.id).map_or(1.0, |r| r.bad_ratio);
        let mut crashed: HashMap<String, RevisionEvidence> = HashMap::new();
        let (cx, strategy) = (&mut self.cx, &mut self.strategy);
        let res = minimizer.minimize(&original, &baseline, &types, &mut |cand: &BuildConfig| {
            cx.config = cand.clone();
            let t = strategy.test_revision(cx, start, Purpose::ConfigMinimization)?;
            let v = t.verdict_or_skip();
            if v == Verdict::Bad && t.bad_ratio < MIN_BAD_RATIO && t.bad_ratio < start_ratio {
                return Ok(Verdict::Skip);
            }
            if v == Verdict::Bad {
                crashed.insert(cand.hash(), t);
            }
            Ok(v)
        });
        self.minimizer = Some(minimizer);
        let config = res.map_err(|e| match e {
            EngineError::Minimize(m) => EngineError::Minimize(m),
            EngineError::Infra(_) | EngineError::Timeout(_) | EngineError::InfraVerdict => e,
            other => EngineError::Minimize(other.to_string()),
        })?;
        self.cx.config = config;
        let chosen = crashed.remove(&self.cx.config.hash());
        if let Some(r) = &chosen {
            self.cx.promote(r);
        }
        Ok(chosen)
    }

    pub(super) fn commit_range(
        &mut self,
        start: &Commit,
        known_good: Vec<CommitId>,
    ) -> Result<Range, EngineError> {
        if !self.cx.cfg.fix && !known_good.is_empty() {
            return self.known_good_range(start, known_good);
        }
        let (bad, good, results) = if self.cx.cfg.fix {
            self.range_for_fix(start, known_good)?
        } else {
            self.range_for_cause(start)?
        };
        self.validate_range(bad, good, &results)
    }

    fn test(&mut self, com: &Commit, purpose: Purpose) -> Result<RevisionEvidence, EngineError> {
        self.strategy.test_revision(&mut self.cx, com, purpose)
    }

    /// The user's known-good commits replace the release walk. They are
    /// tested all the same: a "good" commit that crashes would send the whole
    /// bisection the wrong way, and one that cannot be tested cannot be trusted.
    fn known_good_range(
        &mut self,
        start: &Commit,
        known_good: Vec<CommitId>,
    ) -> Result<Range, EngineError> {
        let mut goods = Vec::new();
        for id in known_good {
            let com = self.cx.vcs().commit(&id)?;
            self.cx.emit(Event::TestingKnownGood { commit: id.clone() });
            let t = self.test(&com, Purpose::KnownGood)?;
            match t.verdict_or_skip() {
                Verdict::Bad => {
                    return Err(BadRange::GoodCrashes {
                        short: id.short().to_string(),
                    }
                    .into());
                }
                Verdict::Skip => {
                    let why = t
                        .report
                        .as_ref()
                        .map_or_else(|| "no verdict".to_string(), |r| r.title.clone());
                    return Err(BadRange::GoodUntestable {
                        short: id.short().to_string(),
                        why,
                    }
                    .into());
                }
                Verdict::Good => {}
            }
            goods.push(com);
        }
        Ok(Range::Bisect {
            bad: Box::new(start.clone()),
            good: goods,
        })
    }

    fn range_for_cause(&mut self, start: &Commit) -> Result<Ends, EngineError> {
        let mut results = Vec::new();
        let tags = self.cx.vcs().release_tags_before(&start.id)?;
        let tags = usable_tags(&tags, self.cx.cfg.compiler_horizon.as_deref());
        if tags.is_empty() {
            return Err(EngineError::NoReleaseTags {
                scheme: self.cx.cfg.tag_scheme.clone(),
            });
        }
        let picked = pick_releases(&tags);
        self.cx.emit(Event::ReleasesPicked {
            picked: picked.clone(),
            total: tags.len(),
        });
        let mut last_bad = start.clone();
        for tag in picked {
            self.cx.emit(Event::TestingRelease { tag: tag.clone() });
            let id = self
                .cx
                .vcs()
                .resolve(&tag)?
                .ok_or_else(|| EngineError::UnknownRevision { rev: tag.clone() })?;
            let com = self.cx.vcs().commit(&id)?;
            let t = self.test(&com, Purpose::Release { tag })?;
            let v = t.verdict_or_skip();
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
            None => self.cx.vcs().branch_head()?,
        };
        let head = self.cx.vcs().commit(&head_id)?;
        if self.cx.cfg.cross_tree {
            self.cx.emit(Event::FindingMergeBase {
                start: start.id.clone(),
                head: head.id.clone(),
            });
            let bases = self.cx.vcs().merge_bases(&start.id, &head.id)?;
            if bases.len() != 1 {
                return Err(EngineError::MergeBases(bases.len()));
            }
            let base = self.cx.vcs().commit(&bases[0])?;
            self.cx.emit(Event::CheckingMergeBase {
                commit: base.id.clone(),
                title: base.title.clone(),
            });
            let t = self.test(&base, Purpose::MergeBase)?;
            let v = t.verdict_or_skip();
            results.push(t);
            if v != Verdict::Bad {
                return Ok((None, vec![base], results));
            }
            start_commit = base;
        }
        self.cx.emit(Event::TestingHead {
            commit: head.id.clone(),
        });
        let t = self.test(&head, Purpose::Head)?;
        let v = t.verdict_or_skip();
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
        results: &[RevisionEvidence],
    ) -> Result<Range, EngineError> {
        let Some(last) = results.last() else {
            return Err(EngineError::Internal(
                "the range phase tested nothing".into(),
            ));
        };
        if self.cx.cfg.fix && self.cx.cfg.cross_tree && results.len() < 2 {
            self.cx.emit(Event::RangeEnded {
                why: RangeEnd::MergeBaseClean,
            });
            let mut r = self.result(OutcomeKind::Horizon);
            r.horizon = good.first().cloned();
            return Ok(Range::Done(Box::new(r)));
        }
        let Some(bad) = bad else {
            return Err(EngineError::Internal("no bad end of the range".into()));
        };
        match last.verdict_or_skip() {
            Verdict::Bad => {
                self.cx.emit(Event::RangeEnded {
                    why: RangeEnd::StillCrashes,
                });
                let mut r = self.result(OutcomeKind::Horizon);
                r.report = last.report.clone();
                r.horizon = Some(bad);
                Ok(Range::Done(Box::new(r)))
            }
            Verdict::Skip if self.cx.cfg.fix => {
                self.cx.emit(Event::RangeEnded {
                    why: RangeEnd::HeadBroken,
                });
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
