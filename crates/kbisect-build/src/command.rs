//! The `command` builder: the user's build command, run in kbisect's own
//! worktree with the revision checked out. The artifact is whatever the
//! command leaves in `$KBISECT_OUT` (the request's output dir, `out/`).
//! Without a build command, `$KBISECT_OUT` is the revision's source tree.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kbisect_core::{
    ArtifactSignature, Build, BuildConfig, BuildOutcome, BuildRequest, Builder, BuilderKind,
    Commit, InfraError,
};
use kbisect_git::{Repo, Worktree};
use kbisect_proc::{CancelToken, Cmd, Status};

use crate::errors::{extract_failure, is_environment_failure};
use crate::signature::dir_signature;

/// File (in the worktree) the job's config is written to before each build.
pub const CONFIG_FILE: &str = ".kbisect-config";

/// What the command builder runs and how.
#[derive(Debug, Clone)]
pub struct CommandBuilderConfig {
    /// Shell command line, run as `sh -c COMMAND` in the worktree; `None`:
    /// nothing to build, the artifact is the source tree.
    pub command: Option<String>,
    /// The worktree kbisect owns (created on first use).
    pub worktree: PathBuf,
    /// Hash only this file of `$KBISECT_OUT` (relative path) for the signature.
    pub hash_file: Option<String>,
    /// Time limit of one build.
    pub timeout: Option<Duration>,
    /// A command whose first output line names the compiler in the log
    /// (`cc --version`); none named, none logged.
    pub compiler: Option<String>,
    /// Extra environment for the build.
    pub env: Vec<(String, String)>,
}

/// The builder (see the module docs).
pub struct CommandBuilder {
    cfg: CommandBuilderConfig,
    repo: Repo,
    worktree: Option<Worktree>,
    cancel: CancelToken,
    compiler_id: Option<Option<String>>,
    built_before: bool,
}

impl CommandBuilder {
    /// A builder of `repo`'s revisions; `cancel` stops a build in progress.
    pub fn new(cfg: CommandBuilderConfig, repo: Repo, cancel: CancelToken) -> Self {
        CommandBuilder {
            cfg,
            repo,
            worktree: None,
            cancel,
            compiler_id: None,
            built_before: false,
        }
    }

    /// Where revisions are checked out.
    pub fn worktree_dir(&self) -> &Path {
        &self.cfg.worktree
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

    fn first_line(&self, cmd: &str) -> String {
        Cmd::new("sh")
            .arg("-c")
            .arg(cmd)
            .timeout(Duration::from_secs(30))
            .cancel(self.cancel.clone())
            .run()
            .ok()
            .and_then(|o| {
                let text = if o.stdout.is_empty() {
                    o.stderr
                } else {
                    o.stdout
                };
                String::from_utf8_lossy(&text)
                    .lines()
                    .next()
                    .map(|l| l.trim().to_string())
            })
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| cmd.to_string())
    }

    /// No build step: the revision's tree is the artifact.
    fn export(&self, commit: &Commit, out_dir: &Path) -> Result<BuildOutcome, InfraError> {
        let t0 = std::time::Instant::now();
        self.repo
            .export_tree(&commit.id, out_dir)
            .map_err(|e| InfraError::environment(format!("cannot export {}", commit.id), e))?;
        let tree = self
            .repo
            .tree_id(&commit.id)
            .map_err(|e| InfraError::environment("cannot read the commit's tree", e))?;
        Ok(BuildOutcome::Built(Build {
            compiler: None,
            signature: Some(ArtifactSignature(tree)),
            artifact: Some(out_dir.to_path_buf()),
            files_used: None,
            duration: t0.elapsed(),
        }))
    }

    fn run_command(
        &mut self,
        command: &str,
        commit: &Commit,
        config: &BuildConfig,
        dir: &Path,
    ) -> Result<BuildOutcome, InfraError> {
        let compiler = self.compiler_id(commit);
        let wt = self.worktree()?;
        wt.checkout(&commit.id)
            .map_err(|e| InfraError::environment(format!("cannot check out {}", commit.id), e))?;
        let config_path = wt.path().join(CONFIG_FILE);
        std::fs::write(&config_path, config.bytes())
            .map_err(|e| InfraError::environment("cannot write the config", e))?;
        let out_dir = dir.join("out");
        if out_dir.exists() {
            // Left by a build that did not finish (killed): start clean.
            std::fs::remove_dir_all(&out_dir)
                .map_err(|e| InfraError::environment("cannot clean the artifact dir", e))?;
        }
        std::fs::create_dir_all(&out_dir)
            .map_err(|e| InfraError::environment("cannot create the artifact dir", e))?;

        let mut cmd = Cmd::new("sh")
            .arg("-c")
            .arg(command)
            .cwd(wt.path())
            .env("KBISECT_COMMIT", commit.id.to_string())
            .env("KBISECT_WORKTREE", wt.path())
            .env("KBISECT_OUT", &out_dir)
            .env("KBISECT_CONFIG", &config_path)
            .cancel(self.cancel.clone())
            .end_escapees()
            .failpoint("build");
        for (k, v) in &self.cfg.env {
            cmd = cmd.env(k, v);
        }
        if let Some(t) = self.cfg.timeout {
            cmd = cmd.timeout(t);
        }
        let out = cmd
            .run()
            .map_err(|e| InfraError::setup("cannot run the build command", e))?;
        let first = !self.built_before;
        self.built_before = true;
        let mut log = out.stdout.clone();
        log.extend_from_slice(&out.stderr);
        std::fs::write(dir.join("build.log"), &log)
            .map_err(|e| InfraError::environment("cannot write the build log", e))?;

        match out.status {
            Status::Cancelled => return Err(InfraError::Interrupted),
            Status::Exited(0) => {}
            Status::Exited(127) if first => {
                return Err(InfraError::Setup {
                    what: format!("build command not found: {command}: {}", out.stderr_tail(1)),
                    source: None,
                });
            }
            Status::TimedOut => {
                return Err(InfraError::Environment {
                    what: format!(
                        "the build of {} timed out after {}s (raise the build timeout)",
                        commit.id.short(),
                        self.cfg.timeout.map_or(0, |t| t.as_secs())
                    ),
                    source: None,
                });
            }
            status => {
                if let Some(why) = is_environment_failure(status, &out.stdout, &out.stderr) {
                    return Err(InfraError::Environment {
                        what: format!("the build of {} failed: {why}", commit.id.short()),
                        source: None,
                    });
                }
                let f =
                    extract_failure(&out.stdout, &out.stderr, &status.to_string(), out.duration);
                return Ok(BuildOutcome::Failed(f));
            }
        }
        let signature = match dir_signature(&out_dir, self.cfg.hash_file.as_deref()) {
            Ok(s) => s,
            Err(e) => {
                let what = self.cfg.hash_file.as_deref().unwrap_or("$KBISECT_OUT");
                let f = extract_failure(
                    b"",
                    format!("error: cannot hash artifact {what}: {e}").as_bytes(),
                    "ok",
                    out.duration,
                );
                return Ok(BuildOutcome::Failed(f));
            }
        };
        Ok(BuildOutcome::Built(Build {
            compiler,
            signature: signature.map(ArtifactSignature),
            artifact: Some(out_dir),
            files_used: None,
            duration: out.duration,
        }))
    }
}

impl Builder for CommandBuilder {
    fn kind(&self) -> BuilderKind {
        BuilderKind::Generic
    }

    fn compiler_id(&mut self, _commit: &Commit) -> Option<String> {
        if let Some(c) = &self.compiler_id {
            return c.clone();
        }
        let id = self.cfg.compiler.clone().map(|cmd| self.first_line(&cmd));
        self.compiler_id = Some(id.clone());
        id
    }

    fn build(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError> {
        if self.cancel.is_cancelled() {
            return Err(InfraError::Interrupted);
        }
        let res = match self.cfg.command.clone() {
            Some(cmd) => self.run_command(&cmd, req.commit, req.config, req.out_dir),
            None => self.export(req.commit, &req.out_dir.join("out")),
        };
        match res {
            // Whatever failed once the user interrupted failed because of it.
            Err(InfraError::Environment { .. }) if self.cancel.is_cancelled() => {
                Err(InfraError::Interrupted)
            }
            other => other,
        }
    }
}
