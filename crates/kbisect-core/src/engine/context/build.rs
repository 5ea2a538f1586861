//! Step 1 of testing revisions: building them, one or a batch at a time
//! (a builder with several build slots makes a batch at once).

use std::path::PathBuf;

use kbisect_crash::CrashType;
use kbisect_git::{Commit, CommitId};

use super::Context;
use crate::error::EngineError;
use crate::events::Event;
use crate::model::BuildOutcome;
use crate::result::{Purpose, ResultReport, RevisionEvidence};
use crate::seams::BuildRequest;

impl Context<'_> {
    /// Step 1 of testing a revision: build it. The record it returns holds
    /// the build outcome; a failed build is already a skip, with the build
    /// error as the revision's report.
    pub fn build(
        &mut self,
        commit: &Commit,
        purpose: Purpose,
    ) -> Result<RevisionEvidence, EngineError> {
        let mut out = self.build_many(std::slice::from_ref(commit), purpose)?;
        out.pop()
            .ok_or_else(|| EngineError::Internal(format!("no build of {} came back", commit.id)))
    }

    /// How many revisions the builder can build at once.
    pub fn build_slots(&self) -> usize {
        self.builder.build_slots().max(1)
    }

    /// Step 1 for several revisions at once (as many at a time as the
    /// builder can build, see [`Context::build_slots`]); records in the
    /// order of `commits`. Each revision's events come together, after
    /// the batch: a batch's builds have no order of their own. Only a
    /// single build is folded here; a caller batching several folds
    /// them first (bayes asks `may_change_binary` before it plans).
    pub fn build_many(
        &mut self,
        commits: &[Commit],
        purpose: Purpose,
    ) -> Result<Vec<RevisionEvidence>, EngineError> {
        self.build_batch(commits, purpose, commits.len())
    }

    /// [`Context::build_many`] whose records after the first are built now
    /// but told later, with [`Context::announce_build`], when they are
    /// tested: a revision built ahead (the known-good commit beside the
    /// start commit) must not appear in the log between the start commit's
    /// build and its runs.
    pub fn build_ahead(
        &mut self,
        commits: &[Commit],
        purpose: Purpose,
    ) -> Result<Vec<RevisionEvidence>, EngineError> {
        self.build_batch(commits, purpose, 1)
    }

    fn build_batch(
        &mut self,
        commits: &[Commit],
        purpose: Purpose,
        announce: usize,
    ) -> Result<Vec<RevisionEvidence>, EngineError> {
        self.check_timeout()?;
        let mut compilers = Vec::with_capacity(commits.len());
        let mut folded: Vec<Option<RevisionEvidence>> = Vec::with_capacity(commits.len());
        for commit in commits {
            let compiler = self.builder.compiler_id(commit);
            if commits.len() == 1 {
                self.emit(Event::TestingCommit {
                    commit: commit.id.clone(),
                    title: commit.title.clone(),
                    compiler: compiler.clone(),
                });
            }
            folded.push(if commits.len() == 1 {
                self.folded_build(commit, &purpose, &compiler)?
            } else {
                None
            });
            compilers.push(compiler);
        }
        let todo: Vec<usize> = (0..commits.len())
            .filter(|&i| folded[i].is_none())
            .collect();
        let out_dirs: Vec<PathBuf> = todo.iter().map(|&i| self.out_dir(&commits[i].id)).collect();
        let reqs: Vec<BuildRequest<'_>> = todo
            .iter()
            .zip(&out_dirs)
            .map(|(&i, out_dir)| BuildRequest {
                commit: &commits[i],
                config: &self.config,
                out_dir,
            })
            .collect();
        let outcomes = if reqs.is_empty() {
            Vec::new()
        } else {
            self.builder.build_many(&reqs)?
        };
        drop(reqs);
        if outcomes.len() != todo.len() {
            return Err(EngineError::Internal(format!(
                "{} builds asked for, {} came back",
                todo.len(),
                outcomes.len()
            )));
        }
        let mut outcomes = outcomes.into_iter();
        let mut out = Vec::with_capacity(commits.len());
        for (i, commit) in commits.iter().enumerate() {
            if let Some(rev) = folded[i].take() {
                out.push(rev);
                continue;
            }
            let Some(outcome) = outcomes.next() else {
                break;
            };
            let compiler = compilers[i].clone();
            self.build_time += outcome.duration();
            if i < announce {
                // A single build said "testing" before it started.
                let testing = commits.len() > 1;
                self.announce(&commit.id, &commit.title, &compiler, &outcome, testing);
            }
            out.push(self.record_of(commit, &purpose, compiler, outcome));
        }
        Ok(out)
    }

    /// The events of a build made by [`Context::build_ahead`], told when
    /// the revision is tested.
    pub fn announce_build(&mut self, rev: &RevisionEvidence) {
        self.announce(&rev.commit, &rev.title, &rev.compiler, &rev.build, true);
    }

    fn announce(
        &mut self,
        id: &CommitId,
        title: &str,
        compiler: &Option<String>,
        outcome: &BuildOutcome,
        testing: bool,
    ) {
        if testing {
            self.emit(Event::TestingCommit {
                commit: id.clone(),
                title: title.to_string(),
                compiler: compiler.clone(),
            });
        }
        let error = match outcome {
            BuildOutcome::Built(_) => None,
            BuildOutcome::Failed(f) => Some(f.title.clone()),
        };
        self.emit(Event::Built {
            commit: id.clone(),
            signature: outcome.signature().cloned(),
            error,
            duration: outcome.duration(),
        });
    }

    fn record_of(
        &self,
        commit: &Commit,
        purpose: &Purpose,
        compiler: Option<String>,
        outcome: BuildOutcome,
    ) -> RevisionEvidence {
        let mut rev = RevisionEvidence::built(
            commit,
            purpose.clone(),
            self.config.hash(),
            compiler,
            outcome,
        );
        if let BuildOutcome::Failed(f) = &rev.build {
            rev.report = Some(ResultReport {
                title: format!("failed building {}: {}", commit.id, f.title),
                crash_type: CrashType::Unknown,
                text: f.error_lines.join("\n"),
            });
        }
        rev
    }
}
