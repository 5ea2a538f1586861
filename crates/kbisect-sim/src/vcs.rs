//! The history as a [`Vcs`], in memory: commit ids are the 40-hex
//! encodings of the commit numbers, titles say which commit (and whether it
//! is docs-only), the branch is the range's start commit, and a docs-only
//! commit changes only a documentation file (a build never uses one).

use kbisect_core::Vcs;
use kbisect_git::{Commit, CommitId, Dag, GitError, ReleaseTag, TagScheme};

use crate::load::History;

/// The one source file every non-docs commit touches (and every build uses).
pub const SOURCE_FILE: &str = "src/main.c";

/// The commit id of a history number.
pub fn id_of(n: u32) -> CommitId {
    // 40 lowercase hex digits are always a valid id: this cannot fail.
    format!("{n:040x}")
        .parse()
        .expect("40 hex digits are a commit id")
}

/// The history number of a commit id (`None`: not one of ours).
pub fn number_of(id: &CommitId) -> Option<u32> {
    u32::from_str_radix(id.as_str(), 16).ok()
}

/// The history behind the [`Vcs`] seam, on one branch.
#[derive(Debug)]
pub struct SimVcs<'h> {
    history: &'h History,
    head: u32,
    scheme: TagScheme,
}

impl<'h> SimVcs<'h> {
    /// The history with its branch at `head` (a history number).
    pub fn new(history: &'h History, head: u32) -> Self {
        SimVcs {
            history,
            head,
            scheme: TagScheme::Semver,
        }
    }

    fn known(&self, id: &CommitId) -> Result<u32, GitError> {
        number_of(id)
            .filter(|&n| (n as usize) < self.history.parents.len())
            .ok_or_else(|| GitError::UnknownRevision {
                rev: id.to_string(),
            })
    }

    /// Whether `a` is an ancestor-or-self of `b`; numbers are topological,
    /// so the walk stops below `a`.
    fn ancestor(&self, a: u32, b: u32) -> bool {
        if a > b {
            return false;
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = vec![b];
        while let Some(i) = stack.pop() {
            if i == a {
                return true;
            }
            if i < a || !seen.insert(i) {
                continue;
            }
            stack.extend(self.history.parents[i as usize].iter().copied());
        }
        false
    }
}

impl Vcs for SimVcs<'_> {
    fn resolve(&self, rev: &str) -> Result<Option<CommitId>, GitError> {
        if let Some(&n) = self.history.tags.get(rev) {
            return Ok(Some(id_of(n)));
        }
        Ok(rev
            .parse::<CommitId>()
            .ok()
            .filter(|id| self.known(id).is_ok()))
    }

    fn commit(&self, id: &CommitId) -> Result<Commit, GitError> {
        let n = self.known(id)?;
        let docs = self.history.docs[n as usize];
        let title = if docs {
            format!("docs: commit {n}")
        } else {
            format!("commit {n}")
        };
        let time = 1_000_000_000 + i64::from(n) * 60;
        Ok(Commit {
            id: id.clone(),
            body: title.clone(),
            title,
            author_name: "Sim Author".into(),
            author_email: "sim@example.org".into(),
            author_date: format!("@{time}"),
            author_time: time,
            commit_time: time,
            parents: self.history.parents[n as usize]
                .iter()
                .map(|&p| id_of(p))
                .collect(),
            trailers: Vec::new(),
        })
    }

    fn branch_head(&self) -> Result<CommitId, GitError> {
        Ok(id_of(self.head))
    }

    fn branch_contains(&self, id: &CommitId) -> Result<bool, GitError> {
        Ok(self.ancestor(self.known(id)?, self.head))
    }

    fn find_by_title(&self, _title: &str) -> Result<Option<CommitId>, GitError> {
        Ok(None)
    }

    fn fetch_commit(&self, rev: &str) -> Result<Option<CommitId>, GitError> {
        self.resolve(rev)
    }

    fn is_ancestor(&self, ancestor: &CommitId, descendant: &CommitId) -> Result<bool, GitError> {
        Ok(self.ancestor(self.known(ancestor)?, self.known(descendant)?))
    }

    fn merge_bases(&self, a: &CommitId, b: &CommitId) -> Result<Vec<CommitId>, GitError> {
        let (ra, rb) = (
            self.history.reach(self.known(a)?),
            self.history.reach(self.known(b)?),
        );
        let common: Vec<u32> = (0..ra.len() as u32)
            .filter(|&i| ra[i as usize] && rb[i as usize])
            .collect();
        // Best common ancestors: common ones that are no parent's ancestor
        // of another common one.
        let mut covered = vec![false; ra.len()];
        for &c in common.iter().rev() {
            if covered[c as usize] {
                continue;
            }
            let mut stack: Vec<u32> = self.history.parents[c as usize].clone();
            while let Some(i) = stack.pop() {
                if !std::mem::replace(&mut covered[i as usize], true) {
                    stack.extend(self.history.parents[i as usize].iter().copied());
                }
            }
        }
        Ok(common
            .into_iter()
            .filter(|&c| !covered[c as usize])
            .map(id_of)
            .collect())
    }

    fn release_tags_before(&self, id: &CommitId) -> Result<Vec<ReleaseTag>, GitError> {
        let n = self.known(id)?;
        let reach = self.history.reach(n);
        let mut tags: Vec<ReleaseTag> = self
            .history
            .tags
            .iter()
            .filter(|(_, c)| **c != n && reach[**c as usize])
            .filter_map(|(name, &c)| {
                Some(ReleaseTag {
                    name: name.clone(),
                    commit: id_of(c),
                    version: self.scheme.version(name)?,
                })
            })
            .collect();
        tags.sort_by(|a, b| b.version.cmp(&a.version).then(a.name.cmp(&b.name)));
        Ok(tags)
    }

    fn is_release_tag(&self, name: &str) -> bool {
        self.scheme.version(name).is_some()
    }

    fn tags_on(&self, id: &CommitId) -> Result<Vec<String>, GitError> {
        let n = self.known(id)?;
        Ok(self
            .history
            .tags
            .iter()
            .filter(|(_, c)| **c == n)
            .map(|(name, _)| name.clone())
            .collect())
    }

    fn dag(&self, bad: &CommitId, goods: &[CommitId]) -> Result<Dag, GitError> {
        let b = self.known(bad)?;
        let mut excluded = vec![false; self.history.parents.len()];
        let mut stack = Vec::new();
        for g in goods {
            stack.push(self.known(g)?);
        }
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut excluded[i as usize], true) {
                stack.extend(self.history.parents[i as usize].iter().copied());
            }
        }
        let mut inside = vec![false; self.history.parents.len()];
        let mut stack = vec![b];
        while let Some(i) = stack.pop() {
            let iu = i as usize;
            if !excluded[iu] && !std::mem::replace(&mut inside[iu], true) {
                stack.extend(self.history.parents[iu].iter().copied());
            }
        }
        // rev-list order: newest first (numbers are topological).
        let commits: Vec<u32> = (0..=b).rev().filter(|&i| inside[i as usize]).collect();
        let mut pos = vec![u32::MAX; b as usize + 1];
        for (k, &c) in commits.iter().enumerate() {
            pos[c as usize] = k as u32;
        }
        let parents = commits
            .iter()
            .map(|&c| {
                self.history.parents[c as usize]
                    .iter()
                    .filter(|&&p| inside[p as usize])
                    .map(|&p| pos[p as usize])
                    .collect()
            })
            .collect();
        Ok(Dag {
            commits: commits.into_iter().map(id_of).collect(),
            parents,
        })
    }

    fn diffstat(&self, id: &CommitId) -> Result<String, GitError> {
        let files = self.changed_files(id)?;
        Ok(format!(
            " {} | 1 +\n 1 file changed, 1 insertion(+)\n",
            files.first().map_or("", String::as_str)
        ))
    }

    fn changed_files(&self, id: &CommitId) -> Result<Vec<String>, GitError> {
        let n = self.known(id)?;
        Ok(vec![if self.history.docs[n as usize] {
            format!("Documentation/notes-{n}.txt")
        } else {
            SOURCE_FILE.to_string()
        }])
    }
    /// The simulated history has no trees to revert in.
    fn revert_onto(
        &self,
        _base: &CommitId,
        _commit: &CommitId,
    ) -> Result<Option<CommitId>, GitError> {
        Ok(None)
    }
}
