//! The `command` builder: the user's build command, run in kbisect's own
//! worktree (`<workdir>/worktree`) with the commit checked out. The artifact
//! is whatever the command leaves in `$KBISECT_OUT`
//! (`<workdir>/artifacts/<commit>/<config_hash>/out`).

use std::path::PathBuf;
use std::time::Duration;

use kbisect_git::{Repo, Worktree};
use kbisect_proc::{CancelToken, Cmd, Status};

use super::{dir_signature, extract_failure};
use crate::model::{Build, BuildOutcome, Commit, KernelConfig, KernelSignature};
use crate::session::artifacts_dir;
use crate::traits::{Builder, InfraError};

/// File (in the worktree) the job's config is written to before each build.
pub const CONFIG_FILE: &str = ".kbisect-config";

#[derive(Debug, Clone)]
pub struct CommandBuilderConfig {
    /// Shell command line, run as `sh -c COMMAND` in the worktree.
    pub command: String,
    /// The work dir (worktree and artifacts live under it).
    pub workdir: PathBuf,
    /// Hash only this file of `$KBISECT_OUT` (relative path) for the signature.
    pub hash_file: Option<String>,
    pub timeout: Option<Duration>,
    /// A command whose first output line names the compiler in the log
    /// (`cc --version`); default: the build command itself.
    pub compiler: Option<String>,
    /// Extra environment for the build.
    pub env: Vec<(String, String)>,
}

pub struct CommandBuilder {
    cfg: CommandBuilderConfig,
    repo: Repo,
    worktree: Option<Worktree>,
    cancel: CancelToken,
    compiler_id: Option<String>,
    built_before: bool,
    bad_command: Option<String>,
}

impl CommandBuilder {
    pub fn new(cfg: CommandBuilderConfig, repo: Repo, cancel: CancelToken) -> Self {
        CommandBuilder {
            cfg,
            repo,
            worktree: None,
            cancel,
            compiler_id: None,
            built_before: false,
            bad_command: None,
        }
    }

    /// Set when the build command was not found on the first build: a
    /// bad-input error rather than a skip.
    pub fn bad_command(&self) -> Option<&str> {
        self.bad_command.as_deref()
    }

    pub fn worktree_dir(&self) -> PathBuf {
        self.cfg.workdir.join("worktree")
    }

    fn worktree(&mut self) -> Result<&Worktree, InfraError> {
        if self.worktree.is_none() {
            let wt = Worktree::create(&self.repo, &self.worktree_dir())
                .map_err(|e| InfraError::Failed(format!("cannot create worktree: {e}")))?;
            self.worktree = Some(wt);
        }
        self.worktree
            .as_ref()
            .ok_or_else(|| InfraError::Failed("no worktree".into()))
    }

    fn infra(what: &str, e: impl std::fmt::Display) -> InfraError {
        InfraError::Failed(format!("{what}: {e}"))
    }
}

impl Builder for CommandBuilder {
    fn compiler_id(&mut self, _commit: &Commit) -> String {
        if let Some(c) = &self.compiler_id {
            return c.clone();
        }
        let id = match &self.cfg.compiler {
            Some(cmd) => Cmd::new("sh")
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
                .unwrap_or_else(|| cmd.clone()),
            None => self.cfg.command.clone(),
        };
        self.compiler_id = Some(id.clone());
        id
    }

    fn build(
        &mut self,
        commit: &Commit,
        config: &KernelConfig,
    ) -> Result<BuildOutcome, InfraError> {
        if self.cancel.is_cancelled() {
            return Err(InfraError::Interrupted);
        }
        let compiler = self.compiler_id(commit);
        let wt = self.worktree()?.clone();
        wt.checkout(&commit.id)
            .map_err(|e| Self::infra(&format!("cannot check out {}", commit.id), e))?;
        let config_path = wt.path().join(CONFIG_FILE);
        std::fs::write(&config_path, config.bytes())
            .map_err(|e| Self::infra("cannot write config", e))?;
        let dir = artifacts_dir(&self.cfg.workdir, commit.id.as_str(), &config.hash());
        let out_dir = dir.join("out");
        if out_dir.exists() {
            // Left by a build that did not finish (killed): start clean.
            std::fs::remove_dir_all(&out_dir)
                .map_err(|e| Self::infra("cannot clean artifact dir", e))?;
        }
        std::fs::create_dir_all(&out_dir)
            .map_err(|e| Self::infra("cannot create artifact dir", e))?;

        let mut cmd = Cmd::new("sh")
            .arg("-c")
            .arg(&self.cfg.command)
            .cwd(wt.path())
            .env("KBISECT_COMMIT", commit.id.to_string())
            .env("KBISECT_WORKTREE", wt.path())
            .env("KBISECT_OUT", &out_dir)
            .env("KBISECT_CONFIG", &config_path)
            .cancel(self.cancel.clone());
        for (k, v) in &self.cfg.env {
            cmd = cmd.env(k, v);
        }
        if let Some(t) = self.cfg.timeout {
            cmd = cmd.timeout(t);
        }
        let out = cmd
            .run()
            .map_err(|e| Self::infra("cannot run build command", e))?;
        let first = !self.built_before;
        self.built_before = true;
        let mut log = out.stdout.clone();
        log.extend_from_slice(&out.stderr);
        std::fs::write(dir.join("build.log"), &log)
            .map_err(|e| Self::infra("cannot write build log", e))?;

        match out.status {
            Status::Cancelled => return Err(InfraError::Interrupted),
            Status::Exited(0) => {}
            Status::Exited(127) if first => {
                let msg = format!(
                    "build command not found: {}: {}",
                    self.cfg.command,
                    out.stderr_tail(1)
                );
                self.bad_command = Some(msg.clone());
                return Err(InfraError::Failed(msg));
            }
            status => {
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
            signature: signature.map(KernelSignature),
            artifact: Some(out_dir),
            duration: out.duration,
        }))
    }
}
