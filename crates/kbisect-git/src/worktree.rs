//! The worktree kbisect owns: the only place it checks revisions out.
//!
//! A linked worktree (`git worktree add`) shares the object store but has
//! its own HEAD, index and reflog under `.git/worktrees/<name>`, so checking
//! out there leaves the user's checkout, index, refs and bisect state alone.

use std::path::{Path, PathBuf};

use crate::error::GitError;
use crate::id::CommitId;
use crate::repo::{Repo, git_cmd, run_ok};

/// A linked worktree kbisect created and owns.
#[derive(Clone, Debug)]
pub struct Worktree {
    repo: Repo,
    path: PathBuf,
    cancel: Option<kbisect_proc::CancelToken>,
}

impl Worktree {
    /// Creates a detached worktree of `repo` at `dir`, or reuses the one
    /// already there. The caller must be the worktree's only user (kbisect
    /// holds its work dir's lock): a reused worktree's stale git locks,
    /// left by a git killed mid-write, are removed.
    pub fn create(repo: &Repo, dir: &Path) -> Result<Worktree, GitError> {
        if dir.exists() && is_linked_worktree_of(repo, dir)? {
            tracing::debug!(dir = %dir.display(), "reusing worktree");
            let wt = Worktree {
                repo: repo.clone(),
                path: dir.to_owned(),
                cancel: None,
            };
            wt.clear_stale_locks()?;
            return Ok(wt);
        }
        let head = repo
            .resolve("HEAD")?
            .ok_or_else(|| GitError::UnknownRevision { rev: "HEAD".into() })?;
        // `--force` re-adds a registered worktree whose directory is gone
        // (deleted by hand) without `git worktree prune`, which would also
        // drop the user's own worktrees whose directories are missing.
        let dir_arg = dir.as_os_str();
        run_ok(
            &repo
                .git()
                .args(["worktree", "add", "--force", "--detach", "--quiet"])
                .arg(dir_arg)
                .arg(head.as_str()),
        )?;
        Ok(Worktree {
            repo: repo.clone(),
            path: dir.to_owned(),
            cancel: None,
        })
    }

    /// The worktree's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs this worktree's git commands with `token`: they stop when it is
    /// cancelled and record their process groups where it records them.
    pub fn with_cancel(mut self, token: kbisect_proc::CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Checks `id` out, discarding any change and untracked file.
    pub fn checkout(&self, id: &CommitId) -> Result<(), GitError> {
        self.checkout_keeping(id, &[])
    }

    /// Like [`Worktree::checkout`], but untracked paths matching `keep`
    /// (gitignore patterns, e.g. a build output dir) survive the clean.
    ///
    /// Files identical in both revisions are not rewritten, so their mtimes
    /// survive and incremental builds stay incremental.
    pub fn checkout_keeping(&self, id: &CommitId, keep: &[&str]) -> Result<(), GitError> {
        // Files whose mtime changed but content did not (a build touched
        // them) would otherwise be rewritten by reset: refresh first. Exit 1
        // only means some files are really modified, which reset handles.
        self.git().args(["update-index", "-q", "--refresh"]).run()?;
        run_ok(&self.git().args(["reset", "--hard", "--quiet"]))?;
        let mut clean = self.git().args(["clean", "-ffdxq"]);
        for k in keep {
            clean = clean.arg("-e").arg(k);
        }
        run_ok(&clean)?;
        let cmd = self.git().args([
            "checkout",
            "--detach",
            "--force",
            "--quiet",
            id.as_str(),
            "--",
        ]);
        let out = cmd.run()?;
        if !out.success() {
            return Err(self.repo.unknown_or(id.as_str(), &cmd, &out));
        }
        Ok(())
    }

    pub fn head(&self) -> Result<CommitId, GitError> {
        let out = run_ok(&self.git().args(["rev-parse", "--verify", "HEAD^{commit}"]))?;
        CommitId::from_git(out.stdout_str().trim())
    }

    /// Applies `id`'s change to the checkout without committing it (a
    /// build fix-up); undo it with [`Worktree::discard_changes`]. `Ok(false)`
    /// when it does not apply cleanly: the checkout is then back at HEAD.
    pub fn cherry_pick_no_commit(&self, id: &CommitId) -> Result<bool, GitError> {
        if !self.repo.has_commit(id.as_str())? {
            return Err(GitError::UnknownRevision {
                rev: id.as_str().to_owned(),
            });
        }
        let out = self
            .git()
            .args(["cherry-pick", "--no-commit", id.as_str()])
            .run()?;
        if out.success() {
            return Ok(true);
        }
        self.discard_changes()?;
        // Clears any sequencer state a failed pick left; a no-op otherwise.
        run_ok(&self.git().args(["cherry-pick", "--quit"]))?;
        Ok(false)
    }

    /// Drops every uncommitted change to tracked files, staged or not (a
    /// cherry-picked fix-up included, files it added too): back to HEAD.
    /// Untracked files stay (a build dir inside the worktree survives).
    pub fn discard_changes(&self) -> Result<(), GitError> {
        run_ok(&self.git().args(["reset", "--hard", "--quiet", "HEAD"]))?;
        Ok(())
    }

    /// Deletes the worktree and its administrative entry.
    pub fn remove(self) -> Result<(), GitError> {
        Worktree::remove_at(&self.repo, &self.path)
    }

    /// Deletes the worktree at `dir` and its administrative entry (only
    /// that one: other worktrees of the repository are left alone).
    pub fn remove_at(repo: &Repo, dir: &Path) -> Result<(), GitError> {
        let admin = admin_dir(dir);
        let cmd = repo
            .git()
            .args(["worktree", "remove", "--force", "--force"])
            .arg(dir.as_os_str());
        let out = cmd.run()?;
        if !out.success() {
            // Already unregistered, or its directory is gone: remove what is left of ours.
            if let Some(a) = admin.filter(|a| a.starts_with(repo.common_dir())) {
                let _ = std::fs::remove_dir_all(a);
            }
            if dir.exists() {
                std::fs::remove_dir_all(dir).map_err(|source| GitError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Removes `index.lock` and `HEAD.lock` of this worktree: left by a git
    /// killed while writing, they block every later checkout.
    pub fn clear_stale_locks(&self) -> Result<(), GitError> {
        let Some(admin) = admin_dir(&self.path) else {
            return Ok(());
        };
        for name in ["index.lock", "HEAD.lock"] {
            let p = admin.join(name);
            match std::fs::remove_file(&p) {
                Ok(()) => tracing::info!(lock = %p.display(), "removed a stale git lock"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(GitError::Io { path: p, source }),
            }
        }
        Ok(())
    }

    fn git(&self) -> kbisect_proc::Cmd {
        // Optional index refreshes are fine here: this index is ours.
        let cmd = git_cmd(&self.path).env("GIT_OPTIONAL_LOCKS", "1");
        match &self.cancel {
            Some(t) => cmd.cancel(t.clone()).failpoint("git-worktree"),
            None => cmd,
        }
    }
}

/// The administrative dir (`<common>/worktrees/<name>`) of the linked
/// worktree at `dir`, from its `.git` file.
fn admin_dir(dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join(".git")).ok()?;
    let p = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
    Some(if p.is_absolute() { p } else { dir.join(p) })
}

/// Whether `dir` is the top of a linked worktree of `repo` (never the main
/// checkout: reusing that would reset the user's files).
fn is_linked_worktree_of(repo: &Repo, dir: &Path) -> Result<bool, GitError> {
    let out = git_cmd(dir)
        .args([
            "rev-parse",
            "--absolute-git-dir",
            "--git-common-dir",
            "--show-toplevel",
        ])
        .run()?;
    if !out.success() {
        return Ok(false);
    }
    let text = out.stdout_str();
    let parts: Vec<&str> = text.lines().collect();
    let [git_dir, common, top] = parts.as_slice() else {
        return Ok(false);
    };
    let canon = |p: &Path| p.canonicalize().ok();
    let common = canon(&dir.join(common));
    let linked = canon(Path::new(git_dir)) != common;
    Ok(linked
        && common.as_deref() == Some(repo.common_dir())
        && canon(Path::new(top)) == canon(dir))
}
