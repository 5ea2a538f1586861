//! The revert check: the start commit with the culprit reverted must not
//! crash. A bisection can only say which commit first shows the crash; a
//! culprit whose revert still crashes on the commit the crash was seen on
//! was not (only) what broke it, however sure the search was. The revert
//! is tested by the strategy's own rules for one revision, so it costs
//! what judging any revision costs and reads like one in the log.

use kbisect_git::Commit;

use super::Engine;
use crate::Verdict;
use crate::error::EngineError;
use crate::events::Event;
use crate::model::RunOutcome;
use crate::result::{Purpose, RevertCheck, RevertOutcome};

impl Engine<'_> {
    pub(super) fn check_revert(
        &mut self,
        start: &Commit,
        culprit: &Commit,
    ) -> Result<RevertCheck, EngineError> {
        let made = self.cx.vcs().revert_onto(&start.id, &culprit.id)?;
        self.cx.emit(Event::Reverting {
            culprit: culprit.id.clone(),
            base: start.id.clone(),
            commit: made.clone(),
        });
        let mut check = RevertCheck {
            base: start.id.clone(),
            commit: made.clone(),
            crashed: 0,
            runs: 0,
            outcome: RevertOutcome::DoesNotApply,
        };
        if let Some(id) = made {
            let commit = self.cx.vcs().commit(&id)?;
            let rev = self
                .strategy
                .test_revision(&mut self.cx, &commit, Purpose::Revert)?;
            check.runs = rev
                .runs
                .iter()
                .filter(|r| {
                    matches!(r.outcome, RunOutcome::Ok) || self.cx.counts_as_crash(r).is_some()
                })
                .count();
            check.crashed = rev
                .runs
                .iter()
                .filter(|r| self.cx.counts_as_crash(r).is_some())
                .count();
            check.outcome = match rev.verdict {
                Some(Verdict::Good) => RevertOutcome::Gone,
                Some(Verdict::Bad) => RevertOutcome::StillCrashes,
                _ => RevertOutcome::Undecided,
            };
        }
        self.cx.emit(Event::RevertChecked {
            check: check.clone(),
        });
        Ok(check)
    }
}
