//! The worktree kbisect owns: the only place it checks revisions out.
//!
//! A linked worktree (`git worktree add`) shares the object store but has
//! its own HEAD, index and reflog under `.git/worktrees/<name>`, so checking
//! out there leaves the user's checkout, index, refs and bisect state alone.

use std::path::{Path, PathBuf};

use crate::error::GitError;
use crate::id::CommitId;
use crate::repo::{Repo, git_cmd, run_ok};

#[derive(Clone, Debug)]
pub struct Worktree {
    repo: Repo,
    path: PathBuf,
}

impl Worktree {
    /// Creates a detached worktree of `repo` at `dir`, or reuses the one already there.
    pub fn create(repo: &Repo, dir: &Path) -> Result<Worktree, GitError> {
        if dir.exists() && is_linked_worktree_of(repo, dir)? {
            tracing::debug!(dir = %dir.display(), "reusing worktree");
            return Ok(Worktree {
                repo: repo.clone(),
                path: dir.to_owned(),
            });
        }
        let head = repo
            .resolve("HEAD")?
            .ok_or_else(|| GitError::UnknownRevision { rev: "HEAD".into() })?;
        // A worktree directory deleted by hand stays registered and blocks `add`.
        run_ok(&repo.git().args(["worktree", "prune"]))?;
        let dir_arg = dir.as_os_str();
        run_ok(
            &repo
                .git()
                .args(["worktree", "add", "--detach", "--quiet"])
                .arg(dir_arg)
                .arg(head.as_str()),
        )?;
        Ok(Worktree {
            repo: repo.clone(),
            path: dir.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
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

    /// Deletes the worktree and its administrative entry.
    pub fn remove(self) -> Result<(), GitError> {
        let cmd = self
            .repo
            .git()
            .args(["worktree", "remove", "--force"])
            .arg(self.path.as_os_str());
        let out = cmd.run()?;
        if !out.success() && self.path.exists() {
            return Err(crate::repo::git_failed(&cmd, &out));
        }
        run_ok(&self.repo.git().args(["worktree", "prune"]))?;
        Ok(())
    }

    fn git(&self) -> kbisect_proc::Cmd {
        // Optional index refreshes are fine here: this index is ours.
        git_cmd(&self.path).env("GIT_OPTIONAL_LOCKS", "1")
    }
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
