//! Finding the start commit again (history may have been rewritten since the
//! crash was seen) and checking the user's known-good commits.

use kbisect_git::CommitId;

use super::Engine;
use crate::error::{BadRange, EngineError};
use crate::events::Event;

impl Engine<'_> {
    /// syzkaller's identifyRewrittenCommit.
    pub(super) fn identify_start(&mut self) -> Result<CommitId, EngineError> {
        let start = self.cx.cfg.start.clone();
        let resolved = self.cx.vcs().resolve(&start)?;
        if self.cx.cfg.cross_tree {
            // A commit from another tree is taken as it is.
            return resolved.ok_or(EngineError::UnknownRevision { rev: start });
        }
        if let Some(id) = &resolved
            && self.cx.vcs().branch_contains(id)?
        {
            return Ok(id.clone());
        }
        if !self.cx.cfg.fix {
            // A cause bisection does not need the commit on the branch, only
            // in the repository.
            self.cx.emit(Event::FetchingStart);
            if let Some(id) = resolved {
                return Ok(id);
            }
            if let Some(id) = self.cx.vcs().fetch_commit(&start)? {
                return Ok(id);
            }
        }
        let Some(title) = self.cx.cfg.start_title.clone().filter(|t| !t.is_empty()) else {
            return Err(EngineError::UnknownCommitNoTitle {
                commit: start,
                branch: self.cx.cfg.branch.clone(),
            });
        };
        match self.cx.vcs().find_by_title(&title)? {
            Some(id) => {
                self.cx.emit(Event::Reidentified {
                    commit: id.clone(),
                    title,
                });
                Ok(id)
            }
            None => Err(EngineError::UnknownCommit {
                commit: start,
                branch: self.cx.cfg.branch.clone(),
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
        let fix = self.cx.cfg.fix;
        for rev in self.cx.cfg.known_good.clone() {
            let id = self
                .cx
                .vcs()
                .resolve(&rev)?
                .ok_or_else(|| EngineError::UnknownRevision { rev: rev.clone() })?;
            if &id == start {
                return Err(BadRange::GoodIsStart { rev }.into());
            }
            let ok = if fix {
                self.cx.vcs().is_ancestor(start, &id)?
            } else {
                self.cx.vcs().is_ancestor(&id, start)?
            };
            if !ok {
                let (what, relation) = if fix {
                    ("known-fixed", "a descendant")
                } else {
                    ("known-good", "an ancestor")
                };
                return Err(BadRange::NotRelated {
                    what,
                    rev,
                    short: id.short().to_string(),
                    relation,
                    start: start.short().to_string(),
                }
                .into());
            }
            out.push(id);
        }
        Ok(out)
    }
}
