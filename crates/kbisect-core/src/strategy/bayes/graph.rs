//! The bisection range as a DAG over indices, the only view of history the
//! search needs: `parents[i]` are the in-range parents of commit `i`, and
//! every parent has a smaller index than its child (parents first). Parents
//! outside the range are left out: they are on the clean side.

/// Commits of one range.
#[derive(Clone, Debug)]
pub struct RangeDag {
    /// In-range parents of each commit, each smaller than the commit's index.
    pub parents: Vec<Vec<u32>>,
    /// The commit cannot change the built binary (it touches no file the
    /// build uses): it has its first parent's binary, is never built, and
    /// cannot be the culprit.
    pub same_binary_as_parent: Vec<bool>,
    /// The commit has a parent outside the range (on the clean side):
    /// verification tests that parent when the commit is the culprit.
    pub has_outside_parent: Vec<bool>,
}

/// Why a parents list is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeDagError {
    /// A parent index is not smaller than its child's.
    #[error("commit {commit} has parent {parent}: parents must come first")]
    NotTopological {
        /// The child.
        commit: u32,
        /// The offending parent.
        parent: u32,
    },
    /// The flags and the parents lists differ in length.
    #[error("flags and parents differ in length")]
    LengthMismatch,
}

impl RangeDag {
    /// Checks the order invariant; no commit has an outside parent.
    pub fn new(
        parents: Vec<Vec<u32>>,
        same_binary_as_parent: Vec<bool>,
    ) -> Result<Self, RangeDagError> {
        if parents.len() != same_binary_as_parent.len() {
            return Err(RangeDagError::LengthMismatch);
        }
        for (i, ps) in parents.iter().enumerate() {
            if let Some(&p) = ps.iter().find(|&&p| p as usize >= i) {
                return Err(RangeDagError::NotTopological {
                    commit: i as u32,
                    parent: p,
                });
            }
        }
        let has_outside_parent = vec![false; parents.len()];
        Ok(RangeDag {
            parents,
            same_binary_as_parent,
            has_outside_parent,
        })
    }

    /// Number of commits.
    pub fn len(&self) -> usize {
        self.parents.len()
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.parents.is_empty()
    }

    /// The commit whose binary `i` has: `i` itself, or for a commit that
    /// cannot change the binary, its first parent's (recursively). A
    /// no-change commit whose first parent is outside the range keeps its
    /// own index (its binary is the clean end's; it holds no candidate).
    pub fn binary_of(&self, mut i: u32) -> u32 {
        while self.same_binary_as_parent[i as usize] {
            match self.parents[i as usize].first() {
                Some(&p) => i = p,
                None => break,
            }
        }
        i
    }

    /// Children lists.
    pub fn children(&self) -> Vec<Vec<u32>> {
        let mut ch = vec![Vec::new(); self.len()];
        for (i, ps) in self.parents.iter().enumerate() {
            for &p in ps {
                ch[p as usize].push(i as u32);
            }
        }
        ch
    }

    /// Ancestors-or-self of `starts`, as a mask.
    pub fn ancestors(&self, starts: &[u32]) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<u32> = starts.to_vec();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i as usize], true) {
                continue;
            }
            stack.extend(self.parents[i as usize].iter().copied());
        }
        seen
    }

    /// For every commit, how many commits with `cand` set are among its
    /// ancestors-or-self. Block bitsets as in `dag.rs`: a row is the union
    /// of its parents' rows; a block's columns can only appear at or after
    /// the block's first column, so rows before it are skipped.
    pub fn ancestor_counts(&self, cand: &[bool]) -> Vec<u32> {
        let cols: Vec<u32> = (0..self.len() as u32)
            .filter(|&i| cand[i as usize])
            .collect();
        let mut out = vec![0u32; self.len()];
        let mut col_of = vec![u32::MAX; self.len()];
        for (k, &c) in cols.iter().enumerate() {
            col_of[c as usize] = k as u32;
        }
        let n = self.len();
        let mut rows = vec![0u64; n * BLOCK_WORDS];
        let mut lo = 0;
        while lo < cols.len() {
            let hi = (lo + BLOCK).min(cols.len());
            let first = cols[lo] as usize;
            rows[first * BLOCK_WORDS..].fill(0);
            for r in first..n {
                let (done, rest) = rows.split_at_mut(r * BLOCK_WORDS);
                let row = &mut rest[..BLOCK_WORDS];
                for &p in &self.parents[r] {
                    let p = p as usize;
                    if p < first {
                        continue;
                    }
                    let prow = &done[p * BLOCK_WORDS..(p + 1) * BLOCK_WORDS];
                    for (a, b) in row.iter_mut().zip(prow) {
                        *a |= *b;
                    }
                }
                let k = col_of[r] as usize;
                if k >= lo && k < hi {
                    let bit = k - lo;
                    row[bit / 64] |= 1u64 << (bit % 64);
                }
                out[r] += row.iter().map(|x| x.count_ones()).sum::<u32>();
            }
            lo = hi;
        }
        out
    }
}

/// Columns per bitset block: 16 words of 64 bits.
pub(super) const BLOCK_WORDS: usize = 16;
/// Bits per block.
pub(super) const BLOCK: usize = BLOCK_WORDS * 64;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn counts_equal_walks() {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |m: usize| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % m as u64) as usize
        };
        for n in [1usize, 5, 300, 2100] {
            let parents: Vec<Vec<u32>> = (0..n)
                .map(|i| {
                    let mut ps: Vec<u32> = Vec::new();
                    if i > 0 {
                        ps.push((i - 1 - rnd(i.min(30))) as u32);
                        if rnd(4) == 0 {
                            let q = (i - 1 - rnd(i.min(60))) as u32;
                            if !ps.contains(&q) {
                                ps.push(q);
                            }
                        }
                    }
                    ps
                })
                .collect();
            let dag = RangeDag::new(parents, vec![false; n]).unwrap();
            let cand: Vec<bool> = (0..n).map(|_| rnd(3) != 0).collect();
            let w = dag.ancestor_counts(&cand);
            for c in 0..n {
                let a = dag.ancestors(&[c as u32]);
                let want = (0..n).filter(|&x| a[x] && cand[x]).count() as u32;
                assert_eq!(w[c], want, "n={n} c={c}");
            }
        }
    }
}
