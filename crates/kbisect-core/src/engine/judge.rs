//! Judging a single culprit: its crash report, and the flags that make a
//! result suspect — a release commit, a merge, a no-op change (the same
//! binary as its parent's, building the parent if it was not tested).

use kbisect_git::Commit;

use super::Engine;
use crate::error::EngineError;
use crate::events::Event;
use crate::result::{BisectResult, Purpose};

impl Engine<'_> {
    pub(super) fn judge_culprit(
        &mut self,
        com: &Commit,
        res: &mut BisectResult,
    ) -> Result<(), EngineError> {
        let tested = self
            .cx
            .result_of(&com.id)
            .cloned()
            .ok_or_else(|| EngineError::Internal("no result for culprit commit".into()))?;
        res.report = tested.report.clone();
        res.release = match self.cx.vcs().tags_on(&com.id) {
            Ok(tags) => tags.iter().any(|t| self.cx.vcs().is_release_tag(t)),
            Err(e) => {
                self.cx.emit(Event::ReleaseCheckFailed {
                    error: e.to_string(),
                });
                false
            }
        };
        res.merge = com.parents.len() > 1;
        res.recipients = crate::recipients::recipients(com);
        let Some(sig) = tested.signature().cloned() else {
            return Ok(());
        };
        if com.parents.len() != 1 {
            return Ok(());
        }
        let parent = com.parents[0].clone();
        let parent_sig = match self.cx.result_of(&parent) {
            Some(t) => t.signature().cloned(),
            None => {
                self.cx.emit(Event::ParentNotTested {
                    parent: parent.clone(),
                });
                let pc = self.cx.vcs().commit(&parent)?;
                let rev = self.cx.build(&pc, Purpose::ParentBuild)?;
                let sig = rev.signature().cloned();
                self.cx.record(rev);
                sig
            }
        };
        let Some(parent_sig) = parent_sig else {
            self.cx.emit(Event::NoopUndetermined);
            return Ok(());
        };
        self.cx.emit(Event::Signatures {
            culprit: sig.clone(),
            parent: parent_sig.clone(),
        });
        res.noop = sig == parent_sig;
        res.culprit_signature = Some(sig);
        res.parent_signature = Some(parent_sig);
        Ok(())
    }
}
