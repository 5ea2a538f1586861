//! Bisection over a commit DAG, the way `git bisect` does it, written out so
//! that every strategy can reuse it: the candidates are the commits reachable
//! from the current bad one and from no good one; the next revision to test
//! is the one whose ancestors among the candidates come closest to half of
//! them. Merges are candidates like any other commit.

use kbisect_git::{CommitId, Dag};

use crate::model::Verdict;

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Test this revision. `left` and `steps` are what git prints:
    /// `Bisecting: LEFT revisions left to test after this (roughly STEPS steps)`.
    Test {
        /// The revision.
        commit: CommitId,
        /// Candidates left after this one.
        left: usize,
        /// Steps left, roughly.
        steps: usize,
    },
    /// The first bad commit.
    Found(CommitId),
    /// Only skipped revisions remain: the first bad commit is one of these
    /// (the skipped candidates, then the current bad commit).
    OnlySkipped(Vec<CommitId>),
}

/// The state of one DAG bisection (in git bisect's terms: "bad" is the side
/// the culprit is on; a fix bisection inverts verdicts before marking).
#[derive(Clone, Debug)]
pub struct DagBisect {
    commits: Vec<CommitId>,
    parents: Vec<Vec<u32>>,
    /// Parents before children.
    topo: Vec<u32>,
    bad: u32,
    goods: Vec<u32>,
    skipped: Vec<bool>,
}

/// Why a DAG cannot be bisected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DagError {
    /// The bad end is not in the DAG.
    #[error("the bad commit {0} is not in the range")]
    BadNotInRange(CommitId),
    /// A commit marked is not in the DAG.
    #[error("commit {0} is not in the range")]
    NotInRange(CommitId),
}

impl DagBisect {
    /// A bisection of `dag` whose bad end is `bad`.
    pub fn new(dag: Dag, bad: &CommitId) -> Result<Self, DagError> {
        let Dag { commits, parents } = dag;
        let bad_ix = commits
            .iter()
            .position(|c| c == bad)
            .ok_or_else(|| DagError::BadNotInRange(bad.clone()))?;
        let topo = topo_order(&parents);
        let n = commits.len();
        Ok(DagBisect {
            commits,
            parents,
            topo,
            bad: bad_ix as u32,
            goods: Vec::new(),
            skipped: vec![false; n],
        })
    }

    fn index(&self, id: &CommitId) -> Result<u32, DagError> {
        self.commits
            .iter()
            .position(|c| c == id)
            .map(|i| i as u32)
            .ok_or_else(|| DagError::NotInRange(id.clone()))
    }

    /// Records a verdict in git bisect's terms.
    pub fn mark(&mut self, id: &CommitId, term: Verdict) -> Result<(), DagError> {
        let ix = self.index(id)?;
        match term {
            Verdict::Good => self.goods.push(ix),
            Verdict::Bad => self.bad = ix,
            Verdict::Skip => self.skipped[ix as usize] = true,
        }
        Ok(())
    }

    /// The current bad end.
    pub fn bad(&self) -> &CommitId {
        &self.commits[self.bad as usize]
    }

    /// The current candidates, in the DAG's (rev-list) order.
    pub fn candidates(&self) -> Vec<CommitId> {
        let cand = self.candidate_mask();
        self.commits
            .iter()
            .enumerate()
            .filter(|(i, _)| cand[*i])
            .map(|(_, c)| c.clone())
            .collect()
    }

    fn candidate_mask(&self) -> Vec<bool> {
        let n = self.commits.len();
        let mut good_reach = vec![false; n];
        let mut stack: Vec<u32> = self.goods.clone();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut good_reach[i as usize], true) {
                continue;
            }
            stack.extend(self.parents[i as usize].iter().copied());
        }
        let mut cand = vec![false; n];
        let mut stack = vec![self.bad];
        while let Some(i) = stack.pop() {
            let iu = i as usize;
            if good_reach[iu] || cand[iu] {
                continue;
            }
            cand[iu] = true;
            stack.extend(self.parents[iu].iter().copied());
        }
        cand
    }

    /// Chooses the next step.
    pub fn next(&self) -> Step {
        let cand = self.candidate_mask();
        let nr = cand.iter().filter(|c| **c).count();
        let weights = Weights::new(self, &cand);
        let any_skipped = (0..self.commits.len()).any(|i| cand[i] && self.skipped[i]);
        let chosen = if any_skipped {
            self.best_avoiding_skips(&cand, nr, &weights)
        } else {
            Some(self.git_choice(&cand, nr, &weights))
        };
        match chosen {
            Some(i) if i != self.bad => Step::Test {
                commit: self.commits[i as usize].clone(),
                left: nr.saturating_sub(weights.get(i as usize) + 1),
                steps: estimate_steps(nr),
            },
            _ => {
                let skipped: Vec<CommitId> = (0..self.commits.len())
                    .filter(|&i| cand[i] && self.skipped[i] && i as u32 != self.bad)
                    .map(|i| self.commits[i].clone())
                    .collect();
                if skipped.is_empty() {
                    Step::Found(self.bad().clone())
                } else {
                    let mut all = skipped;
                    all.push(self.bad().clone());
                    Step::OnlySkipped(all)
                }
            }
        }
    }

    /// git's own choice when nothing is skipped (bisect.c, do_find_bisection):
    /// walking its list oldest first, the first merge, then the first commit
    /// of a strand (in the order their weights become known), that is
    /// approximately halfway wins; otherwise the first with the best distance.
    fn git_choice(&self, cand: &[bool], nr: usize, weights: &Weights) -> u32 {
        // git's list is rev-list's order reversed.
        let list: Vec<u32> = (0..self.commits.len() as u32)
            .rev()
            .filter(|&i| cand[i as usize])
            .collect();
        git_halfway(&self.parents, cand, &list, nr, |i| weights.get(i), self.bad)
    }

    /// With skipped revisions git sorts every candidate by distance (ties by
    /// hash) and takes the best one not skipped. (Where the very best is
    /// skipped, git jumps a pseudo-random distance away from it; kbisect
    /// takes the next best, which keeps runs reproducible.)
    fn best_avoiding_skips(&self, cand: &[bool], nr: usize, weights: &Weights) -> Option<u32> {
        (0..self.commits.len())
            .filter(|&i| cand[i] && !self.skipped[i])
            .map(|i| {
                let w = weights.get(i);
                (std::cmp::Reverse(w.min(nr - w)), &self.commits[i], i as u32)
            })
            .min()
            .map(|(_, _, i)| i)
    }
}

/// Ancestor counts among the candidates (each commit counts itself).
///
/// Exact counts need ancestor *sets* because of merges. They are computed
/// as bitsets, one block of columns at a time so memory stays bounded
/// (rows x 16 words): in topological order a commit's row is the union of its
/// parents' rows plus its own bit, and a block's columns can only appear in
/// rows at or after the block's first commit, so each block starts there.
/// About n^2/128 word operations: a few milliseconds for a kernel-sized
/// range of 12k commits.
struct Weights {
    w: Vec<usize>,
}

/// Columns per block: 16 words of 64 bits.
const BLOCK_WORDS: usize = 16;
const BLOCK: usize = BLOCK_WORDS * 64;

impl Weights {
    fn new(b: &DagBisect, cand: &[bool]) -> Self {
        let n = b.commits.len();
        // Candidates in topological order, and each one's candidate parents
        // as positions in that order.
        let order: Vec<u32> = b
            .topo
            .iter()
            .copied()
            .filter(|&i| cand[i as usize])
            .collect();
        let mut pos = vec![u32::MAX; n];
        for (k, &i) in order.iter().enumerate() {
            pos[i as usize] = k as u32;
        }
        let cparents: Vec<Vec<u32>> = order
            .iter()
            .map(|&i| {
                b.parents[i as usize]
                    .iter()
                    .filter(|p| cand[**p as usize])
                    .map(|p| pos[*p as usize])
                    .collect()
            })
            .collect();
        let nr = order.len();
        let mut weight_by_pos = vec![0usize; nr];
        let mut rows = vec![0u64; nr * BLOCK_WORDS];
        let mut lo = 0;
        while lo < nr {
            let hi = (lo + BLOCK).min(nr);
            rows[lo * BLOCK_WORDS..].fill(0);
            for k in lo..nr {
                let (done, rest) = rows.split_at_mut(k * BLOCK_WORDS);
                let row = &mut rest[..BLOCK_WORDS];
                for &p in &cparents[k] {
                    let p = p as usize;
                    if p < lo {
                        continue; // rows before the block are empty
                    }
                    let prow = &done[p * BLOCK_WORDS..(p + 1) * BLOCK_WORDS];
                    for (a, b) in row.iter_mut().zip(prow) {
                        *a |= *b;
                    }
                }
                if k < hi {
                    let bit = k - lo;
                    row[bit / 64] |= 1u64 << (bit % 64);
                }
                weight_by_pos[k] += row.iter().map(|x| x.count_ones() as usize).sum::<usize>();
            }
            lo = hi;
        }
        let mut w = vec![0usize; n];
        for (k, &i) in order.iter().enumerate() {
            w[i as usize] = weight_by_pos[k];
        }
        Weights { w }
    }

    fn get(&self, i: usize) -> usize {
        self.w[i]
    }
}

/// git's bisect.c choice (do_find_bisection) over `list`, the candidates
/// oldest first: the first merge, then the first commit of a strand (in
/// the order their weights become known), whose weight (`weight(i)`: its
/// ancestors among the `nr` candidates) is approximately halfway wins;
/// otherwise the first with the best distance (`fallback` when `list` is
/// empty). `DagBisect` and the bayes strategy's index port share it, so
/// they cannot drift apart.
pub(crate) fn git_halfway(
    parents: &[Vec<u32>],
    cand: &[bool],
    list: &[u32],
    nr: usize,
    weight: impl Fn(usize) -> usize,
    fallback: u32,
) -> u32 {
    let halfway = |w: usize| {
        let diff = 2 * w as i64 - nr as i64;
        (-1..=1).contains(&diff) || diff.unsigned_abs() < (nr / 1024) as u64
    };
    let cparents = |i: u32| {
        parents[i as usize]
            .iter()
            .filter(|p| cand[**p as usize])
            .count()
    };
    let mut known = vec![false; parents.len()];
    for &i in list {
        if cparents(i) == 0 {
            known[i as usize] = true;
        }
    }
    for &i in list {
        if cparents(i) >= 2 {
            known[i as usize] = true;
            if halfway(weight(i as usize)) {
                return i;
            }
        }
    }
    let mut counted = list.iter().filter(|&&i| known[i as usize]).count();
    while counted < list.len() {
        let before = counted;
        for &i in list {
            let iu = i as usize;
            if known[iu]
                || !parents[iu]
                    .iter()
                    .any(|p| cand[*p as usize] && known[*p as usize])
            {
                continue;
            }
            known[iu] = true;
            counted += 1;
            if halfway(weight(iu)) {
                return i;
            }
        }
        if counted == before {
            break; // cannot happen in a DAG; do not spin
        }
    }
    let mut best = list.first().copied().unwrap_or(fallback);
    let mut best_dist = None;
    for &i in list {
        let w = weight(i as usize);
        let d = w.min(nr - w);
        if best_dist.is_none_or(|b| d > b) {
            best_dist = Some(d);
            best = i;
        }
    }
    best
}

/// Parents before children; ties in DAG order, so the order is deterministic.
fn topo_order(parents: &[Vec<u32>]) -> Vec<u32> {
    topo_order_from(parents, (0..parents.len() as u32).rev())
}

/// Parents before children, depth first from each of `roots` in turn
/// (every node must be reachable from them; the order is deterministic).
pub(crate) fn topo_order_from(parents: &[Vec<u32>], roots: impl Iterator<Item = u32>) -> Vec<u32> {
    let n = parents.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut out = Vec::with_capacity(n);
    let mut stack: Vec<(u32, usize)> = Vec::new();
    for root in roots {
        if state[root as usize] != 0 {
            continue;
        }
        stack.push((root, 0));
        state[root as usize] = 1;
        while let Some((node, next)) = stack.last_mut() {
            let nu = *node as usize;
            if let Some(&p) = parents[nu].get(*next) {
                *next += 1;
                if state[p as usize] == 0 {
                    state[p as usize] = 1;
                    stack.push((p, 0));
                }
            } else {
                state[nu] = 2;
                out.push(*node);
                stack.pop();
            }
        }
    }
    out
}

/// git's estimate of the steps left for `all` candidates.
pub fn estimate_steps(all: usize) -> usize {
    if all < 3 {
        return 0;
    }
    let n = usize::BITS as usize - 1 - all.leading_zeros() as usize; // log2
    let e = 1usize << n;
    let x = all - e;
    if e < 3 * x { n } else { n - 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: usize) -> CommitId {
        format!("{i:040x}").parse().unwrap()
    }

    /// A linear history 0 <- 1 <- ... <- n-1, listed newest first.
    fn linear(n: usize) -> Dag {
        let commits: Vec<CommitId> = (0..n).rev().map(id).collect();
        let parents = (0..n)
            .map(|k| {
                if k + 1 < n {
                    vec![(k + 1) as u32]
                } else {
                    vec![]
                }
            })
            .collect();
        Dag { commits, parents }
    }

    /// Random DAGs with merges (a small LCG keeps it deterministic), bigger
    /// than one bitset block: bitset weights equal a plain ancestor walk.
    #[test]
    fn weights_equal_naive_counts() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |m: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % m as u64) as usize
        };
        for n in [1usize, 2, 7, 300, 2500] {
            // Index 0 is the newest; parents have larger indices.
            let parents: Vec<Vec<u32>> = (0..n)
                .map(|i| {
                    let older = n - 1 - i;
                    let k = if older == 0 {
                        0
                    } else if rnd(5) == 0 {
                        2
                    } else {
                        1
                    };
                    let mut ps: Vec<u32> = (0..k.min(older))
                        .map(|_| (i + 1 + rnd(older.min(40))) as u32)
                        .collect();
                    ps.dedup();
                    ps
                })
                .collect();
            let dag = Dag {
                commits: (0..n).map(id).collect(),
                parents: parents.clone(),
            };
            let mut b = DagBisect::new(dag, &id(0)).unwrap();
            if n > 10 {
                b.mark(&id(n / 2), Verdict::Good).unwrap();
            }
            let cand = b.candidate_mask();
            let w = Weights::new(&b, &cand);
            for c in 0..n {
                if !cand[c] {
                    continue;
                }
                let mut seen = vec![false; n];
                let mut stack = vec![c];
                let mut count = 0;
                while let Some(x) = stack.pop() {
                    if !cand[x] || std::mem::replace(&mut seen[x], true) {
                        continue;
                    }
                    count += 1;
                    stack.extend(parents[x].iter().map(|p| *p as usize));
                }
                assert_eq!(w.get(c), count, "n={n} commit {c}");
            }
        }
    }

    #[test]
    fn steps_match_git() {
        assert_eq!(estimate_steps(1), 0);
        assert_eq!(estimate_steps(3), 1);
        assert_eq!(estimate_steps(6516 * 2 + 1), 13);
    }

    #[test]
    fn linear_finds_culprit() {
        for culprit in 0..16 {
            let mut b = DagBisect::new(linear(16), &id(15)).unwrap();
            let mut tests = 0;
            loop {
                match b.next() {
                    Step::Test { commit, .. } => {
                        tests += 1;
                        let k = (0..16).find(|k| id(*k) == commit).unwrap();
                        let v = if k >= culprit {
                            Verdict::Bad
                        } else {
                            Verdict::Good
                        };
                        b.mark(&commit, v).unwrap();
                    }
                    Step::Found(c) => {
                        assert_eq!(c, id(culprit));
                        break;
                    }
                    Step::OnlySkipped(_) => panic!("no skips"),
                }
            }
            assert!(tests <= 5, "{tests} tests for culprit {culprit}");
        }
    }

    #[test]
    fn skips_make_it_inconclusive() {
        let mut b = DagBisect::new(linear(5), &id(4)).unwrap();
        loop {
            match b.next() {
                Step::Test { commit, .. } => b.mark(&commit, Verdict::Skip).unwrap(),
                Step::OnlySkipped(all) => {
                    assert_eq!(all.len(), 5);
                    break;
                }
                Step::Found(_) => panic!("everything was skipped"),
            }
        }
    }
}
