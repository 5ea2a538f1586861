//! Finding the start commit again (history may have been rewritten since the
//! crash was seen) and checking the user's known-good commits.

use kbisect_git::CommitId;

use super::Engine;
use crate::error::EngineError;
use crate::events::Event;

impl Engine<'_> {
    /// syzkaller's identifyRewrittenCommit.
    pub(super) fn identify_start(&mut self) -> Result<CommitId, EngineError> {
        let start = self.cfg.start.clone();
        let resolved = self.vcs.resolve(&start)?;
        if self.cfg.cross_tree {
            // A commit from another tree is taken as it is.
            return resolved.ok_or(EngineError::UnknownRevision { rev: start });
        }
        if let Some(id) = &resolved
            && self.vcs.branch_contains(id)?
        {
            return Ok(id.clone());
        }
        if !self.cfg.fix {
            // A cause bisection does not need the commit on the branch, only
            // in the repository.
            self.note("fetch other tags and check if the commit is present");
            if let Some(id) = resolved {
                return Ok(id);
            }
            if let Some(id) = self.vcs.fetch_commit(&start)? {
                return Ok(id);
            }
        }
        let Some(title) = self.cfg.start_title.clone().filter(|t| !t.is_empty()) else {
            return Err(EngineError::UnknownCommitNoTitle {
                commit: start,
                branch: self.cfg.branch.clone(),
            });
        };
        match self.vcs.find_by_title(&title)? {
            Some(id) => {
                self.emit(Event::Reidentified {
                    commit: id.clone(),
                    title,
                });
                Ok(id)
            }
            None => Err(EngineError::UnknownCommit {
                commit: start,
                branch: self.cfg.branch.clone(),
                title,
            }),
        }
    }

    /// Resolves the known-good commits and checks that they bound a range:
    /// for a cause bisection each must be an ancestor of the start commit,
    /// for a fix bisection a descendant.
    pub(super) fn resolve_known_good(
        &mut self,
        start: &CommitId,
    ) -> Result<Vec<CommitId>, EngineError> {
        let mut out = Vec::new();
        for rev in self.cfg.known_good.clone() {
            let id = self
                .vcs
                .resolve(&rev)?
                .ok_or_else(|| EngineError::UnknownRevision { rev: rev.clone() })?;
            if &id == start {
                return Err(EngineError::BadRange(format!(
                    "the known-good commit {rev} is the start commit: the range is empty"
                )));
            }
            let ok = if self.cfg.fix {
                self.vcs.is_ancestor(start, &id)?
            } else {
                self.vcs.is_ancestor(&id, start)?
            };
            if !ok {
                let (what, rel) = if self.cfg.fix {
                    ("known-fixed", "a descendant")
                } else {
                    ("known-good", "an ancestor")
                };
                return Err(EngineError::BadRange(format!(
                    "the {what} commit {rev} ({}) is not {rel} of the start commit {}",
                    id.short(),
                    start.short()
                )));
            }
            out.push(id);
        }
        Ok(out)
    }
}
