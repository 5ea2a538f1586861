//! The kernel `Builder` of the engine: checks a revision out in kbisect's
//! worktree and builds it with [`KernelBuild`] into a persistent build
//! directory. The artifact directory gets `bzImage` and `vmlinux` (the qemu
//! tester boots the first); the signature is `vmlinux`'s; the files the
//! build read decide which commits cannot change the binary.

use std::path::PathBuf;

use kbisect_core::{
    ArtifactSignature, Build, BuildFailure, BuildOutcome, BuildRequest, Builder, BuilderKind,
    Commit, InfraError,
};
use kbisect_git::{Repo, Worktree};
use kbisect_proc::CancelToken;

use crate::build::{KernelBuild, KernelBuildRequest, KernelOutcome, KernelSettings};
use crate::deps::is_build_system_file;
use crate::error::{ErrorKind, KernelError};
use crate::version::KernelVersion;

/// Where the kernel builder works.
#[derive(Debug, Clone)]
pub struct KernelBuilderConfig {
    /// How kernels are built.
    pub settings: KernelSettings,
    /// kbisect's worktree of the repository (created on first use).
    pub worktree: PathBuf,
    /// The persistent build directory (`make O=`), reused across revisions.
    pub build_dir: PathBuf,
}

/// The engine's kernel builder.
pub struct KernelBuilder {
    kb: KernelBuild,
    cfg: KernelBuilderConfig,
    repo: Repo,
    worktree: Option<Worktree>,
    cancel: CancelToken,
}

fn infra(e: KernelError) -> InfraError {
    match e.kind() {
        ErrorKind::Interrupted => InfraError::Interrupted,
        ErrorKind::Setup => InfraError::Setup {
            what: e.to_string(),
            source: Some(Box::new(e)),
        },
        ErrorKind::Environment => InfraError::Environment {
            what: e.to_string(),
            source: Some(Box::new(e)),
        },
    }
}

impl KernelBuilder {
    /// A builder of `repo`'s revisions; `cancel` stops a build and records
    /// its process groups.
    pub fn new(cfg: KernelBuilderConfig, repo: Repo, cancel: CancelToken) -> Self {
        KernelBuilder {
            kb: KernelBuild::new(cfg.settings.clone()),
            cfg,
            repo,
            worktree: None,
            cancel,
        }
    }

    fn worktree(&mut self) -> Result<Worktree, InfraError> {
        if let Some(wt) = &self.worktree {
            return Ok(wt.clone());
        }
        let wt = Worktree::create(&self.repo, &self.cfg.worktree)
            .map_err(|e| InfraError::environment("cannot create kbisect's worktree", e))?
            .with_cancel(self.cancel.clone());
        self.worktree = Some(wt.clone());
        Ok(wt)
    }

    /// The revision's version, from its Makefile in the object store.
    fn version(&self, commit: &Commit) -> Option<KernelVersion> {
        let text = self.repo.show_file(&commit.id, "Makefile").ok()??;
        KernelVersion::from_makefile(&String::from_utf8_lossy(&text))
    }

    fn build_checked_out(
        &mut self,
        req: &BuildRequest<'_>,
        wt: &Worktree,
    ) -> Result<BuildOutcome, InfraError> {
        let out = self.kb.build(&KernelBuildRequest {
            source_dir: wt.path(),
            build_dir: &self.cfg.build_dir,
            config: req.config.bytes(),
            out_dir: req.out_dir,
            git: Some((&self.repo, wt)),
            cancel: Some(&self.cancel),
        });
        match out.map_err(infra)? {
            KernelOutcome::Built(a) => Ok(BuildOutcome::Built(Build {
                compiler: Some(a.compiler.clone()),
                signature: Some(ArtifactSignature(a.signature.0.clone())),
                artifact: Some(req.out_dir.to_path_buf()),
                files_used: Some(a.files_used.0.iter().cloned().collect()),
                duration: a.duration,
            })),
            KernelOutcome::Failed(f) => Ok(BuildOutcome::Failed(BuildFailure {
                title: f.title,
                error_lines: f.error_lines,
                guilty_file: f.guilty_file,
                duration: f.duration,
            })),
        }
    }
}

impl Builder for KernelBuilder {
    fn kind(&self) -> BuilderKind {
        BuilderKind::Kernel
    }

    fn compiler_id(&mut self, commit: &Commit) -> Option<String> {
        let v = self.version(commit)?;
        self.kb.compiler_id(&v).ok()
    }

    fn build(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError> {
        if self.cancel.is_cancelled() {
            return Err(InfraError::Interrupted);
        }
        let wt = self.worktree()?;
        let res = wt
            .checkout_keeping(&req.commit.id, &[])
            .map_err(|e| InfraError::environment(format!("cannot check out {}", req.commit.id), e))
            .and_then(|()| self.build_checked_out(req, &wt));
        match res {
            Err(InfraError::Environment { .. }) if self.cancel.is_cancelled() => {
                Err(InfraError::Interrupted)
            }
            other => other,
        }
    }

    fn may_change_binary(&self, build: &Build, path: &str) -> bool {
        is_build_system_file(path)
            || build
                .files_used
                .as_ref()
                .is_none_or(|f| f.binary_search_by(|x| x.as_str().cmp(path)).is_ok())
    }
}
