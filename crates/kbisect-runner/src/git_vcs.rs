//! `Vcs` over a real git repository and branch.

use kbisect_core::Vcs;
use kbisect_git::{Commit, CommitId, Dag, GitError, ReleaseTag, Repo, TagScheme};

/// A repository and the branch under bisection.
#[derive(Clone)]
pub struct GitVcs {
    repo: Repo,
    branch: String,
    remote: String,
    scheme: TagScheme,
}

impl GitVcs {
    /// The history of `branch` in `repo`.
    pub fn new(repo: Repo, branch: &str) -> Self {
        GitVcs {
            repo,
            branch: branch.to_string(),
            remote: "origin".to_string(),
            scheme: TagScheme::Kernel,
        }
    }

    /// Which tags are releases (default: kernel-style).
    pub fn with_scheme(mut self, scheme: TagScheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// The repository.
    pub fn repo(&self) -> &Repo {
        &self.repo
    }
}

impl Vcs for GitVcs {
    fn resolve(&self, rev: &str) -> Result<Option<CommitId>, GitError> {
        self.repo.resolve(rev)
    }
    fn commit(&self, id: &CommitId) -> Result<Commit, GitError> {
        self.repo.commit(id)
    }
    fn branch_head(&self) -> Result<CommitId, GitError> {
        self.repo.branch_head(&self.branch)
    }
    fn branch_contains(&self, id: &CommitId) -> Result<bool, GitError> {
        let head = self.branch_head()?;
        self.repo.is_ancestor(id, &head)
    }
    fn find_by_title(&self, title: &str) -> Result<Option<CommitId>, GitError> {
        self.repo.find_by_title(&self.branch, title)
    }
    fn fetch_commit(&self, rev: &str) -> Result<Option<CommitId>, GitError> {
        if self.repo.has_commit(rev)? {
            return self.repo.resolve(rev);
        }
        if self.repo.fetch_commit(&self.remote, rev)? {
            return self.repo.resolve(rev);
        }
        Ok(None)
    }
    fn is_ancestor(&self, ancestor: &CommitId, descendant: &CommitId) -> Result<bool, GitError> {
        self.repo.is_ancestor(ancestor, descendant)
    }
    fn merge_bases(&self, a: &CommitId, b: &CommitId) -> Result<Vec<CommitId>, GitError> {
        self.repo.merge_bases(a, b)
    }
    fn release_tags_before(&self, id: &CommitId) -> Result<Vec<ReleaseTag>, GitError> {
        self.repo.release_tags_before_in(id, &self.scheme)
    }
    fn is_release_tag(&self, name: &str) -> bool {
        self.scheme.version(name).is_some()
    }
    fn tags_on(&self, id: &CommitId) -> Result<Vec<String>, GitError> {
        self.repo.tags_on(id)
    }
    fn dag(&self, bad: &CommitId, goods: &[CommitId]) -> Result<Dag, GitError> {
        self.repo.dag(bad, goods)
    }
    fn diffstat(&self, id: &CommitId) -> Result<String, GitError> {
        self.repo.diffstat(id)
    }
    fn changed_files(&self, id: &CommitId) -> Result<Vec<String>, GitError> {
        self.repo.changed_files(id)
    }
    fn revert_onto(
        &self,
        base: &CommitId,
        commit: &CommitId,
    ) -> Result<Option<CommitId>, GitError> {
        self.repo.revert_onto(base, commit)
    }
}
