//! The `command` builder: the user's build command, run in kbisect's own
//! worktree with the revision checked out. The artifact is whatever the
//! command leaves in `$KBISECT_OUT` (the request's output dir, `out/`).
//! Without a build command, `$KBISECT_OUT` is the revision's source tree.
//!
//! A build command may say which files it read: it writes them, one
//! repo-relative path per line, to the file `$KBISECT_FILES_USED` names
//! (beside `$KBISECT_OUT`, not in it, so the list is no part of the
//! signature). After a successful build the list becomes
//! [`Build::files_used`]; a commit that changes none of those files cannot
//! change the binary, and a bisection that shares evidence never builds
//! it. No list written: nothing is known, every commit may change the
//! binary (as before lists existed).
//!
//! With several build slots, a batch of revisions is built at once, each
//! in a worktree of its own (see `slots.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use kbisect_core::{
    ArtifactSignature, Build, BuildOutcome, BuildRequest, Builder, BuilderKind, Commit, InfraError,
};
use kbisect_git::{Repo, Worktree};
use kbisect_proc::{CancelToken, Cmd, Status};

use crate::errors::{extract_failure, is_environment_failure};
use crate::signature::dir_signature;

/// File (in the worktree) the job's config is written to before each build.
pub const CONFIG_FILE: &str = ".kbisect-config";

/// File (in the build's dir, beside `out/`) a build may list the files it
/// used in; its path is handed to the build as `$KBISECT_FILES_USED`.
const FILES_USED_FILE: &str = "files-used";

/// The paths a build listed, as [`Build::files_used`] wants them: one per
/// line, blank lines dropped, sorted and deduplicated. A leading `./` is
/// dropped and an absolute path inside the worktree made relative to it,
/// so every spelling of a file is the one `git` uses; other absolute paths
/// (system headers) are dropped, as no commit can change them. An empty
/// list says nothing (`None`): a build that read no file at all is far
/// likelier a list that went wrong, and taking it at its word would fold
/// every commit.
fn parse_files_used(text: &str, worktree: &Path) -> Option<Vec<String>> {
    let mut files: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let p = Path::new(l);
            let rel = if p.is_absolute() {
                p.strip_prefix(worktree).ok()?
            } else {
                p.strip_prefix("./").unwrap_or(p)
            };
            let s = rel.to_str()?;
            (!s.is_empty()).then(|| s.to_string())
        })
        .collect();
    files.sort();
    files.dedup();
    (!files.is_empty()).then_some(files)
}

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
    /// How many builds run at once, each in a worktree of its own: slot 0
    /// is `worktree`, slot `i` the sibling `<worktree>-<i>` (see
    /// [`crate::slot_worktree`]). 0 counts as 1.
    pub slots: usize,
}

/// The builder (see the module docs).
pub struct CommandBuilder {
    pub(crate) cfg: CommandBuilderConfig,
    pub(crate) repo: Repo,
    /// One per build slot, created on first use (slot order).
    pub(crate) worktrees: Vec<Worktree>,
    pub(crate) cancel: CancelToken,
    compiler_id: Option<Option<String>>,
    pub(crate) built_before: bool,
}

impl CommandBuilder {
    /// A builder of `repo`'s revisions; `cancel` stops a build in progress.
    pub fn new(cfg: CommandBuilderConfig, repo: Repo, cancel: CancelToken) -> Self {
        CommandBuilder {
            cfg,
            repo,
            worktrees: Vec::new(),
            cancel,
            compiler_id: None,
            built_before: false,
        }
    }

    /// Where revisions are checked out.
    pub fn worktree_dir(&self) -> &Path {
        &self.cfg.worktree
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

    /// Builds `req` in `wt` (`&self` only: a build slot's thread runs it).
    /// `compiler` is the revision's compiler identity, `first` whether no
    /// build of this builder ran the command before (a command that is not
    /// found then is the job's fault, not the revision's).
    pub(crate) fn run_command(
        &self,
        wt: &Worktree,
        command: &str,
        req: &BuildRequest<'_>,
        compiler: Option<String>,
        first: bool,
    ) -> Result<BuildOutcome, InfraError> {
        let (commit, config, dir) = (req.commit, req.config, req.out_dir);
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
        let files_used_path = dir.join(FILES_USED_FILE);
        match std::fs::remove_file(&files_used_path) {
            // A list left by a build that did not finish must not pass for this one's.
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(InfraError::environment("cannot clean the artifact dir", e)),
        }

        let mut cmd = Cmd::new("sh")
            .arg("-c")
            .arg(command)
            .cwd(wt.path())
            .env("KBISECT_COMMIT", commit.id.to_string())
            .env("KBISECT_WORKTREE", wt.path())
            .env("KBISECT_OUT", &out_dir)
            .env("KBISECT_CONFIG", &config_path)
            .env("KBISECT_FILES_USED", &files_used_path)
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
        let files_used = match std::fs::read(&files_used_path) {
            Ok(bytes) => parse_files_used(&String::from_utf8_lossy(&bytes), wt.path()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(InfraError::environment(
                    format!("cannot read {}", files_used_path.display()),
                    e,
                ));
            }
        };
        Ok(BuildOutcome::Built(Build {
            compiler,
            signature: signature.map(ArtifactSignature),
            artifact: Some(out_dir),
            files_used,
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
            Some(cmd) => self.build_in_slot_0(&cmd, req),
            None => self.export(req.commit, &req.out_dir.join("out")),
        };
        self.interrupted(res)
    }

    fn build_slots(&self) -> usize {
        self.cfg.slots.max(1)
    }

    fn build_many(&mut self, reqs: &[BuildRequest<'_>]) -> Result<Vec<BuildOutcome>, InfraError> {
        self.build_in_slots(reqs)
    }
}

impl CommandBuilder {
    /// What a build's result means once the user interrupted: whatever
    /// failed then failed because of it.
    pub(crate) fn interrupted<T>(&self, res: Result<T, InfraError>) -> Result<T, InfraError> {
        match res {
            Err(InfraError::Environment { .. }) if self.cancel.is_cancelled() => {
                Err(InfraError::Interrupted)
            }
            other => other,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use kbisect_core::BuildConfig;

    #[test]
    fn a_files_used_list_is_read_sorted_deduplicated_and_repo_relative() {
        let wt = Path::new("/w/tree");
        let text =
            "src/b.c\n\n  ./src/a.c \nMakefile\nsrc/b.c\n/w/tree/src/a.h\n/usr/include/stdio.h\n";
        assert_eq!(
            parse_files_used(text, wt),
            Some(vec![
                "Makefile".to_string(),
                "src/a.c".into(),
                "src/a.h".into(),
                "src/b.c".into()
            ])
        );
        assert_eq!(parse_files_used("\n \n", wt), None);
        assert_eq!(parse_files_used("/usr/include/stdio.h\n", wt), None);
    }

    /// A repository with one commit holding `a.c` and `README`.
    pub(crate) fn repo(dir: &Path) -> (Repo, Commit) {
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
                .args(["-c", "commit.gpgsign=false"])
                .args(args)
                .current_dir(dir)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        git(&["init", "-q", "-b", "master"]);
        std::fs::write(dir.join("a.c"), "int a;\n").unwrap();
        std::fs::write(dir.join("README"), "hi\n").unwrap();
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "init"]);
        let repo = Repo::open(dir).unwrap();
        let id = repo.resolve("HEAD").unwrap().unwrap();
        let commit = repo.commit(&id).unwrap();
        (repo, commit)
    }

    fn build(repo: &Repo, commit: &Commit, work: &Path, command: &str, n: usize) -> Build {
        let mut b = CommandBuilder::new(
            CommandBuilderConfig {
                command: Some(command.into()),
                worktree: work.join(format!("wt{n}")),
                hash_file: None,
                timeout: None,
                compiler: None,
                env: Vec::new(),
                slots: 1,
            },
            repo.clone(),
            CancelToken::new(),
        );
        let out = work.join(format!("art{n}"));
        let outcome = b
            .build(&BuildRequest {
                commit,
                config: &BuildConfig::default(),
                out_dir: &out,
            })
            .unwrap();
        match outcome {
            BuildOutcome::Built(b) => b,
            BuildOutcome::Failed(f) => panic!("build failed: {f:?}"),
        }
    }

    #[test]
    fn the_builder_reads_the_list_a_build_writes_and_it_is_no_part_of_the_signature() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src");
        std::fs::create_dir(&src).unwrap();
        let (repo, commit) = repo(&src);
        let listing = build(
            &repo,
            &commit,
            d.path(),
            "cp a.c \"$KBISECT_OUT/\" && printf 'a.c\\n\\n./a.c\\n' > \"$KBISECT_FILES_USED\"",
            1,
        );
        assert_eq!(listing.files_used, Some(vec!["a.c".to_string()]));
        let silent = build(&repo, &commit, d.path(), "cp a.c \"$KBISECT_OUT/\"", 2);
        assert_eq!(silent.files_used, None);
        assert_eq!(listing.signature, silent.signature);
        // A list left behind by an earlier build of the same dir is not read.
        std::fs::write(d.path().join("art2").join(FILES_USED_FILE), "a.c\n").unwrap();
        let again = build(&repo, &commit, d.path(), "cp a.c \"$KBISECT_OUT/\"", 2);
        assert_eq!(again.files_used, None);
    }
}
