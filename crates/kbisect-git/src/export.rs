//! A revision's tree written out to a plain directory (no `.git`): the
//! artifact of a project with nothing to build, so that each revision's
//! tests run on its own files whatever the worktree holds later.

use std::path::Path;

use crate::error::GitError;
use crate::id::CommitId;
use crate::repo::{Repo, run_ok};

impl Repo {
    /// The id of the commit's tree: equal trees, equal content.
    pub fn tree_id(&self, id: &CommitId) -> Result<String, GitError> {
        let cmd = self
            .git()
            .args(["rev-parse", "--verify", &format!("{id}^{{tree}}")]);
        Ok(run_ok(&cmd)?.stdout_str().trim().to_string())
    }

    /// Writes the commit's files into `dir` (created if needed, emptied
    /// first), through a throw-away index so nothing of the user's changes.
    pub fn export_tree(&self, id: &CommitId, dir: &Path) -> Result<(), GitError> {
        let io = |path: &Path, source| GitError::Io {
            path: path.to_path_buf(),
            source,
        };
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let index = dir.with_extension("kbisect-index");
        let _ = std::fs::remove_file(&index);
        let cmd = self
            .git()
            .env("GIT_INDEX_FILE", &index)
            .arg("--work-tree")
            .arg(dir)
            .args(["checkout", "--force", id.as_str(), "--", "."]);
        let res = run_ok(&cmd);
        let _ = std::fs::remove_file(&index);
        res.map(|_| ())
    }
}

impl Repo {
    /// The content of `path` at commit `id`, `None` when the commit has no
    /// such file (read from the object store: nothing is checked out).
    pub fn show_file(&self, id: &CommitId, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let out = self
            .git()
            .args(["cat-file", "blob", &format!("{id}:{path}")])
            .run()?;
        Ok(out.success().then_some(out.stdout))
    }
}
