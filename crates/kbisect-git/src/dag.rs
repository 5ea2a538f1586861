//! The commit graph of a bisection range, loaded with one `git rev-list`.

use std::collections::HashMap;

use crate::error::GitError;
use crate::id::CommitId;
use crate::repo::{Repo, run_ok};

/// Commits reachable from `bad` and from none of the goods, with their
/// parent links as indices (parents outside the range are left out).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dag {
    /// In `git rev-list` order (newest first by commit date, `bad` first).
    pub commits: Vec<CommitId>,
    /// `parents[i]` are indices into `commits`, in the commit's parent order.
    pub parents: Vec<Vec<u32>>,
}

impl Dag {
    /// Linear scan: the engine keeps its own maps; this is for occasional lookups.
    pub fn index_of(&self, id: &CommitId) -> Option<u32> {
        self.commits
            .iter()
            .position(|c| c == id)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// Id → index for every commit, for callers that look up many ids.
    pub fn index_map(&self) -> HashMap<CommitId, u32> {
        self.commits
            .iter()
            .zip(0u32..)
            .map(|(c, i)| (c.clone(), i))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.commits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }

    /// Parses `git rev-list --parents` output.
    pub(crate) fn parse(text: &str) -> Result<Dag, GitError> {
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        let mut index: HashMap<&str, u32> = HashMap::with_capacity(lines.len());
        let mut commits = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            let id = line.split(' ').next().unwrap_or_default();
            let i =
                u32::try_from(i).map_err(|_| GitError::parse("rev-list", "too many commits"))?;
            index.insert(id, i);
            commits.push(CommitId::from_git(id)?);
        }
        let parents = lines
            .iter()
            .map(|line| {
                line.split(' ')
                    .skip(1)
                    .filter_map(|p| index.get(p).copied())
                    .collect()
            })
            .collect();
        Ok(Dag { commits, parents })
    }
}

impl Repo {
    /// The range `bad ^good...`, in one `git rev-list --parents` call.
    pub fn dag(&self, bad: &CommitId, goods: &[CommitId]) -> Result<Dag, GitError> {
        let cmd = self
            .git()
            .args(["rev-list", "--parents", bad.as_str()])
            .args(goods.iter().map(|g| format!("^{g}")))
            .arg("--");
        let out = run_ok(&cmd)?;
        let text = std::str::from_utf8(&out.stdout)
            .map_err(|e| GitError::parse("rev-list output", e.to_string()))?;
        Dag::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_drops_outside_parents() {
        let (a, b, c, x) = (
            "a".repeat(40),
            "b".repeat(40),
            "c".repeat(40),
            "f".repeat(40),
        );
        let text = format!("{a} {b} {c}\n{c} {x}\n{b} {x}\n");
        let d = Dag::parse(&text).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.parents, vec![vec![2, 1], vec![], vec![]]);
        assert_eq!(d.index_of(&c.parse().unwrap()), Some(1));
        assert_eq!(d.index_of(&x.parse().unwrap()), None);
        assert_eq!(d.index_map()[&c.parse().unwrap()], 1);
        assert!(Dag::parse("").unwrap().is_empty());
    }
}
