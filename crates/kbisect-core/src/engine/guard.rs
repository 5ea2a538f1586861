//! The fix-bisection guard (syzkaller #4117): in a fix bisection a revision
//! may predate the bug (an old branch merged late), and "no crash" there
//! says nothing about the fix. Before believing it, check that the bug was
//! there: a crashing tested revision is its ancestor, or one of its merge
//! bases with the crashing end crashes.

use kbisect_git::Commit;

use super::Context;
use crate::error::EngineError;
use crate::events::{Event, GuardStep};
use crate::model::Verdict;
use crate::result::Purpose;
use crate::strategy::Strategy;

/// `Some(verdict)` (crash terms) when the guard decides the revision
/// without testing it: the bug was not introduced yet (pretend it crashed),
/// or nothing could tell (skip). `None`: test it normally.
pub fn fix_guard(
    strategy: &mut dyn Strategy,
    cx: &mut Context<'_>,
    com: &Commit,
) -> Result<Option<Verdict>, EngineError> {
    cx.emit(Event::Guard {
        step: GuardStep::Checking,
    });
    match had_bug(strategy, cx, com)? {
        Some(true) => Ok(None),
        Some(false) => {
            cx.emit(Event::Guard {
                step: GuardStep::NotIntroducedYet,
            });
            Ok(Some(Verdict::Bad))
        }
        None => {
            // syzkaller means to skip here but then overwrites it with
            // "crashed"; a revision we know nothing about is a skip.
            cx.emit(Event::Guard {
                step: GuardStep::CannotTell,
            });
            Ok(Some(Verdict::Skip))
        }
    }
}

/// Whether the bug was present at `com`; `None` when nothing could be tested.
fn had_bug(
    strategy: &mut dyn Strategy,
    cx: &mut Context<'_>,
    com: &Commit,
) -> Result<Option<bool>, EngineError> {
    let crashed: Vec<_> = cx
        .judged()
        .filter(|t| t.verdict == Some(Verdict::Bad))
        .map(|t| t.commit.clone())
        .collect();
    for id in crashed {
        if cx.vcs().is_ancestor(&id, &com.id)? {
            cx.emit(Event::Guard {
                step: GuardStep::CrashedAncestor { commit: id },
            });
            return Ok(Some(true));
        }
    }
    let Some(anchor) = cx.anchor().map(|c| c.id.clone()) else {
        return Ok(None);
    };
    let bases = cx.vcs().merge_bases(&com.id, &anchor)?;
    let mut any = false;
    for base in bases {
        cx.emit(Event::Guard {
            step: GuardStep::MergeBase {
                commit: base.clone(),
            },
        });
        let verdict = match cx.result_of(&base) {
            Some(t) => t.verdict_or_skip(),
            None => {
                cx.emit(Event::Guard {
                    step: GuardStep::TestingMergeBase,
                });
                let bc = cx.vcs().commit(&base)?;
                strategy
                    .test_revision(cx, &bc, Purpose::MergeBase)?
                    .verdict_or_skip()
            }
        };
        match verdict {
            Verdict::Skip => continue,
            Verdict::Bad => return Ok(Some(true)),
            Verdict::Good => any = true,
        }
    }
    Ok(if any { Some(false) } else { None })
}
