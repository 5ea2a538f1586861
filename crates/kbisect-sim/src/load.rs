//! Reading `git-history.dag.gz` (see `shared/dags/README.md`) and cutting
//! a range `A..B` (by tag names) out of it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The whole history: parents by commit number (parents first), flags, tags.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Parents of each commit number (each smaller than the commit's).
    pub parents: Vec<Vec<u32>>,
    /// Docs-only commits (they cannot change a built binary).
    pub docs: Vec<bool>,
    /// Release tags by name.
    pub tags: BTreeMap<String, u32>,
}

/// A range cut out of the history.
#[derive(Clone, Debug)]
pub struct Range {
    /// `A..B` as given.
    pub name: String,
    /// The history numbers of the range's commits, ascending (parents first).
    pub global: Vec<u32>,
    /// In-range parents of each range commit, as range indices.
    pub parents: Vec<Vec<u32>>,
    /// Docs-only flag of each range commit.
    pub docs: Vec<bool>,
    /// Range index of each history number (`u32::MAX`: outside the range).
    pub local: Vec<u32>,
    /// Range index of B (the start commit), the newest commit.
    pub head: u32,
    /// History number of A (the clean end).
    pub good: u32,
    /// History number of B.
    pub bad: u32,
}

/// A DAG file or range that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line is not in the format.
    #[error("{}:{line}: bad line: {text}", path.display())]
    BadLine {
        /// The file.
        path: PathBuf,
        /// Its line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// The range is not `A..B`, names an unknown tag, or is empty.
    #[error("range {spec}: {why}")]
    BadRange {
        /// The range as given.
        spec: String,
        /// What is wrong.
        why: String,
    },
}

impl History {
    /// Reads the gzip'd text format.
    pub fn load(path: &Path) -> Result<History, LoadError> {
        let io = |source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        };
        let f = std::fs::File::open(path).map_err(io)?;
        let r = BufReader::new(flate2::read::GzDecoder::new(f));
        let mut h = History::default();
        for (ln, line) in r.lines().enumerate() {
            let line = line.map_err(io)?;
            let bad = || LoadError::BadLine {
                path: path.to_path_buf(),
                line: ln + 1,
                text: line.clone(),
            };
            let mut it = line.split_whitespace();
            match it.next() {
                Some("c") => {
                    let id: usize = it.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
                    if id != h.parents.len() {
                        return Err(bad());
                    }
                    let mut ps = Vec::new();
                    let mut docs = false;
                    let mut after = false;
                    for tok in it {
                        if tok == ";" {
                            after = true;
                        } else if after {
                            docs |= tok == "d";
                        } else {
                            let p: u32 = tok.parse().map_err(|_| bad())?;
                            if p as usize >= id {
                                return Err(bad());
                            }
                            ps.push(p);
                        }
                    }
                    h.parents.push(ps);
                    h.docs.push(docs);
                }
                Some("t") => {
                    let name = it.next().ok_or_else(bad)?.to_string();
                    let id: u32 = it.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
                    if id as usize >= h.parents.len() {
                        return Err(bad());
                    }
                    h.tags.insert(name, id);
                }
                _ => {}
            }
        }
        Ok(h)
    }

    /// Ancestors-or-self of `from`, as a mask over the history.
    pub fn reach(&self, from: u32) -> Vec<bool> {
        let mut seen = vec![false; self.parents.len()];
        let mut stack = vec![from];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i as usize], true) {
                continue;
            }
            stack.extend(self.parents[i as usize].iter().copied());
        }
        seen
    }

    /// The commits reachable from B and not from A (history numbers are
    /// already topological, so ascending numbers put parents first).
    pub fn range(&self, spec: &str) -> Result<Range, LoadError> {
        let bad_range = |why: String| LoadError::BadRange {
            spec: spec.to_string(),
            why,
        };
        let (a, b) = spec
            .split_once("..")
            .ok_or_else(|| bad_range("expected A..B (two tag names)".into()))?;
        let tag = |t: &str| {
            self.tags
                .get(t)
                .copied()
                .ok_or_else(|| bad_range(format!("unknown tag {t:?}")))
        };
        let (ai, bi) = (tag(a)?, tag(b)?);
        let ra = self.reach(ai);
        let rb = self.reach(bi);
        let global: Vec<u32> = (0..self.parents.len() as u32)
            .filter(|&i| rb[i as usize] && !ra[i as usize])
            .collect();
        if global.is_empty() {
            return Err(bad_range(
                "no commit is reachable from B and not from A".into(),
            ));
        }
        let mut local = vec![u32::MAX; self.parents.len()];
        for (k, &g) in global.iter().enumerate() {
            local[g as usize] = k as u32;
        }
        let parents = global
            .iter()
            .map(|&g| {
                self.parents[g as usize]
                    .iter()
                    .filter(|&&p| local[p as usize] != u32::MAX)
                    .map(|&p| local[p as usize])
                    .collect()
            })
            .collect();
        let docs = global.iter().map(|&g| self.docs[g as usize]).collect();
        Ok(Range {
            name: spec.to_string(),
            head: local[bi as usize],
            global,
            parents,
            docs,
            local,
            good: ai,
            bad: bi,
        })
    }
}

impl Range {
    /// Number of commits.
    pub fn len(&self) -> usize {
        self.global.len()
    }

    /// Whether the range is empty (never, once cut).
    pub fn is_empty(&self) -> bool {
        self.global.is_empty()
    }

    /// The range commit whose binary `i` has: itself, or for a docs-only
    /// commit its first parent's (recursively, inside the range).
    pub fn binary_of(&self, mut i: u32) -> u32 {
        while self.docs[i as usize] {
            match self.parents[i as usize].first() {
                Some(&p) => i = p,
                None => break,
            }
        }
        i
    }

    /// Merges in the range.
    pub fn merges(&self) -> usize {
        self.parents.iter().filter(|p| p.len() > 1).count()
    }

    /// Docs-only commits in the range.
    pub fn docs_only(&self) -> usize {
        self.docs.iter().filter(|d| **d).count()
    }
}
