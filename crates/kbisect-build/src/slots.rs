//! Build slots: the command builder building several revisions at once,
//! each in a worktree of its own. Slot 0 is the configured worktree, slot
//! `i` its sibling `<worktree>-<i>`, so every slot lives where kbisect's
//! worktree lives and goes away with it.
//!
//! A batch is built in waves of at most one request per slot, each request
//! on its own thread; a wave ends when all its builds have ended, so no
//! build is left running behind an error.

use std::path::{Path, PathBuf};

use kbisect_core::{BuildOutcome, BuildRequest, Builder, InfraError};
use kbisect_git::Worktree;

use crate::command::CommandBuilder;

/// The worktree of build slot `slot` of a builder whose worktree is `base`:
/// `base` itself for slot 0, the sibling `<base>-<slot>` for the others.
pub fn slot_worktree(base: &Path, slot: usize) -> PathBuf {
    if slot == 0 {
        return base.to_path_buf();
    }
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    base.with_file_name(format!("{name}-{slot}"))
}

/// The extra slots' worktrees (slot 1 and up) that exist beside `base`,
/// sorted by slot. Found by name rather than by the slot count of the
/// moment: a bisection resumed with fewer slots still has the others' to
/// remove.
pub fn extra_slot_worktrees(base: &Path) -> Vec<PathBuf> {
    let (Some(parent), Some(name)) = (base.parent(), base.file_name()) else {
        return Vec::new();
    };
    let prefix = format!("{}-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(usize, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.file_name();
            let slot: usize = file.to_str()?.strip_prefix(&prefix)?.parse().ok()?;
            (slot > 0 && slot_worktree(base, slot) == e.path()).then(|| (slot, e.path()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

impl CommandBuilder {
    /// The worktrees of the first `n` slots, creating those that do not
    /// exist yet. Creation is sequential (it writes the repository's
    /// worktree list) and happens before any build of a wave starts.
    pub(crate) fn slot_worktrees(&mut self, n: usize) -> Result<(), InfraError> {
        while self.worktrees.len() < n {
            let slot = self.worktrees.len();
            let dir = slot_worktree(&self.cfg.worktree, slot);
            let what = if slot == 0 {
                "cannot create kbisect's worktree".to_string()
            } else {
                format!("cannot create kbisect's worktree {}", dir.display())
            };
            let wt = Worktree::create(&self.repo, &dir)
                .map_err(|e| InfraError::environment(what, e))?
                .with_cancel(self.cancel.clone());
            self.worktrees.push(wt);
        }
        Ok(())
    }

    /// One build in slot 0: the path of every single build.
    pub(crate) fn build_in_slot_0(
        &mut self,
        command: &str,
        req: &BuildRequest<'_>,
    ) -> Result<BuildOutcome, InfraError> {
        let compiler = self.compiler_id(req.commit);
        let first = !self.built_before;
        self.slot_worktrees(1)?;
        self.built_before = true;
        self.run_command(&self.worktrees[0], command, req, compiler, first)
    }

    /// `build_many`: waves of at most one request per slot. One slot, one
    /// request, or nothing to build (an export per request is cheap): one
    /// after another, exactly as `build`.
    pub(crate) fn build_in_slots(
        &mut self,
        reqs: &[BuildRequest<'_>],
    ) -> Result<Vec<BuildOutcome>, InfraError> {
        let slots = self.build_slots();
        let command = match self.cfg.command.clone() {
            Some(c) if slots > 1 && reqs.len() > 1 => c,
            _ => return reqs.iter().map(|r| self.build(r)).collect(),
        };
        let mut out = Vec::with_capacity(reqs.len());
        for wave in reqs.chunks(slots) {
            out.extend(self.build_wave(&command, wave)?);
        }
        Ok(out)
    }

    /// Builds every request of `wave` at once, request `i` in slot `i`;
    /// outcomes in request order, or the first error in request order once
    /// every build of the wave has ended.
    fn build_wave(
        &mut self,
        command: &str,
        wave: &[BuildRequest<'_>],
    ) -> Result<Vec<BuildOutcome>, InfraError> {
        if self.cancel.is_cancelled() {
            return Err(InfraError::Interrupted);
        }
        let compilers: Vec<Option<String>> =
            wave.iter().map(|r| self.compiler_id(r.commit)).collect();
        // Exit 127 is "command not found" (the job's fault) only on the
        // builder's first build; later it is the revision's. As one after
        // another, only the wave's first request can be that first build,
        // so a revision's outcome does not depend on the slot count.
        let first = !self.built_before;
        let created = self.slot_worktrees(wave.len());
        self.interrupted(created)?;
        self.built_before = true;
        let this = &*self;
        let wts = &self.worktrees[..wave.len()];
        let results: Vec<Result<BuildOutcome, InfraError>> = std::thread::scope(|s| {
            let handles: Vec<_> = wave
                .iter()
                .zip(wts)
                .zip(compilers)
                .enumerate()
                .map(|(i, ((req, wt), compiler))| {
                    s.spawn(move || this.run_command(wt, command, req, compiler, first && i == 0))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        results.into_iter().map(|r| self.interrupted(r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use kbisect_core::{BuildConfig, Commit};
    use kbisect_proc::CancelToken;

    use super::*;
    use crate::CommandBuilderConfig;
    use crate::command::tests::repo;

    #[test]
    fn slot_worktrees_are_siblings_named_after_the_first() {
        let base = Path::new("/w/work/worktree");
        assert_eq!(slot_worktree(base, 0), base);
        assert_eq!(slot_worktree(base, 2), Path::new("/w/work/worktree-2"));
        let d = tempfile::tempdir().unwrap();
        let base = d.path().join("worktree");
        for name in [
            "worktree",
            "worktree-2",
            "worktree-10",
            "worktree-x",
            "worktree-0",
        ] {
            std::fs::create_dir(d.path().join(name)).unwrap();
        }
        std::fs::create_dir(d.path().join("worktree-1")).unwrap();
        assert_eq!(
            extra_slot_worktrees(&base),
            vec![
                d.path().join("worktree-1"),
                d.path().join("worktree-2"),
                d.path().join("worktree-10")
            ]
        );
    }

    fn builder(repo: &kbisect_git::Repo, work: &Path, command: String) -> CommandBuilder {
        CommandBuilder::new(
            CommandBuilderConfig {
                command: Some(command),
                worktree: work.join("wt"),
                hash_file: None,
                timeout: None,
                compiler: None,
                env: Vec::new(),
                slots: 2,
            },
            repo.clone(),
            CancelToken::new(),
        )
    }

    fn requests<'a>(
        commit: &'a Commit,
        cfg: &'a BuildConfig,
        outs: &'a [PathBuf],
    ) -> Vec<BuildRequest<'a>> {
        outs.iter()
            .map(|o| BuildRequest {
                commit,
                config: cfg,
                out_dir: o,
            })
            .collect()
    }

    #[test]
    fn a_wave_builds_at_once_each_in_its_slot_and_answers_in_order() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src");
        std::fs::create_dir(&src).unwrap();
        let (repo, commit) = repo(&src);
        let log = d.path().join("log");
        let command = format!(
            "echo start >> {log}; sleep 0.3; echo end >> {log}; \
             echo \"$KBISECT_WORKTREE\" > \"$KBISECT_OUT/wt\"; \
             case \"$KBISECT_OUT\" in *bad*) exit 137;; esac",
            log = log.display()
        );
        let mut b = builder(&repo, d.path(), command);
        assert_eq!(b.build_slots(), 2);
        let cfg = BuildConfig::default();
        let outs: Vec<PathBuf> = ["a", "b", "c"].iter().map(|n| d.path().join(n)).collect();
        let got = b.build_many(&requests(&commit, &cfg, &outs)).unwrap();
        assert_eq!(got.len(), 3);
        let wt_of = |o: &Path| std::fs::read_to_string(o.join("out/wt")).unwrap();
        assert!(got.iter().all(|o| o.built().is_some()));
        assert_eq!(
            wt_of(&outs[0]).trim(),
            d.path().join("wt").display().to_string()
        );
        assert_eq!(
            wt_of(&outs[1]).trim(),
            d.path().join("wt-1").display().to_string()
        );
        assert_eq!(
            wt_of(&outs[2]).trim(),
            d.path().join("wt").display().to_string()
        );
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.starts_with("start\nstart\n"),
            "the first wave ran at once: {text}"
        );

        // An error in a wave is returned once the wave's other builds ended.
        let outs: Vec<PathBuf> = ["bad", "ok"].iter().map(|n| d.path().join(n)).collect();
        let e = b.build_many(&requests(&commit, &cfg, &outs)).unwrap_err();
        assert!(matches!(e, InfraError::Environment { .. }), "{e:?}");
        assert!(outs[1].join("out/wt").is_file());
    }
}
