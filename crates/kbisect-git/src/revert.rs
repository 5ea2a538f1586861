//! A commit reverted on top of another, made in the object store only: no
//! worktree, no index, no ref moves, so the user's checkout is never
//! touched and a resumed bisection makes the same commit again.

use kbisect_proc::Status;

use crate::error::GitError;
use crate::id::CommitId;
use crate::repo::{Repo, git_failed, run_ok};

impl Repo {
    /// `base` with `commit` reverted (a merge against its first parent,
    /// as `git revert -m 1` does), as a new commit whose parent is `base`.
    /// `None` when the revert does not apply cleanly or `commit` is a root.
    ///
    /// The three-way merge is git's own (`git merge-tree --write-tree`
    /// with `commit` as the merge base and its parent as "theirs"), so the
    /// tree is exactly the one `git revert` would leave. Author, committer
    /// and dates are fixed (the base's committer date), so the id is the
    /// same every time it is made.
    pub fn revert_onto(
        &self,
        base: &CommitId,
        commit: &CommitId,
    ) -> Result<Option<CommitId>, GitError> {
        let parents = self.commit_parents(commit)?;
        let Some(parent) = parents.first() else {
            return Ok(None);
        };
        // Checks `base` exists, with git's error when it does not.
        self.commit_parents(base)?;
        let merge = self.git().args([
            "merge-tree",
            "--write-tree",
            "--no-messages",
            &format!("--merge-base={commit}"),
            base.as_str(),
            parent.as_str(),
        ]);
        let out = merge.run()?;
        match out.status {
            Status::Exited(0) => {}
            // Conflicts: git printed a tree with conflict markers.
            Status::Exited(1) => return Ok(None),
            _ => return Err(git_failed(&merge, &out)),
        }
        let tree = out
            .stdout_str()
            .lines()
            .next()
            .map(str::trim)
            .unwrap_or_default()
            .to_string();
        let info = self
            .git()
            .args(["show", "-s", "--format=%ct%x00%s", commit.as_str()]);
        let date_of_base = self
            .git()
            .args(["show", "-s", "--format=%ct", base.as_str()]);
        let title = run_ok(&info)?.stdout_str().trim().to_string();
        let title = title.split_once('\0').map_or("", |(_, s)| s).to_string();
        let date = format!("@{} +0000", run_ok(&date_of_base)?.stdout_str().trim());
        let message = format!("Revert \"{title}\"\n\nThis reverts commit {commit}.\n");
        let make = self
            .git()
            .env("GIT_AUTHOR_NAME", "kbisect")
            .env("GIT_AUTHOR_EMAIL", "kbisect@localhost")
            .env("GIT_COMMITTER_NAME", "kbisect")
            .env("GIT_COMMITTER_EMAIL", "kbisect@localhost")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .args(["-c", "commit.gpgSign=false", "commit-tree", &tree, "-p"])
            .arg(base.as_str())
            .stdin_bytes(message.into_bytes());
        let id = run_ok(&make)?.stdout_str().trim().to_string();
        CommitId::from_git(&id).map(Some)
    }
}
