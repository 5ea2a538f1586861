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
    Test { commit: CommitId, left: usize, steps: usize },
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
    #[error("the bad commit {0} is not in the range")]
    BadNotInRange(CommitId),
    #[error("commit {0} is not in the range")]
    NotInRange(CommitId),
}

impl DagBisect {
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
        let mut best: Option<(usize, u32)> = None; // (distance, index)
        let mut w_best = 0usize;
        for &i in &self.topo {
            let iu = i as usize;
            if !cand[iu] || self.skipped[iu] || i == self.bad {
                continue;
            }
            let w = weights.get(iu);
            let dist = w.min(nr - w);
            // Ties go to the oldest in rev-list order: git walks its list
            // oldest first and keeps the first best.
            let better = match best {
                None => true,
                Some((bd, bi)) => dist > bd || (dist == bd && i > bi),
            };
            if better {
                best = Some((dist, i));
                w_best = w;
            }
        }
        match best {
            Some((_, i)) => Step::Test {
                commit: self.commits[i as usize].clone(),
                left: nr.saturating_sub(w_best + 1),
                steps: estimate_steps(nr),
            },
            None => {
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
}

/// Ancestor counts among the candidates, computed in topological order: a
/// commit with one candidate parent weighs one more than that parent, and
/// only merges need a walk of their own.
struct Weights {
    w: Vec<usize>,
}

impl Weights {
    fn new(b: &DagBisect, cand: &[bool]) -> Self {
        let n = b.commits.len();
        let mut w = vec![0usize; n];
        let mut seen = vec![0u32; n];
        let mut stamp = 0u32;
        let mut stack: Vec<u32> = Vec::new();
        for &i in &b.topo {
            let iu = i as usize;
            if !cand[iu] {
                continue;
            }
            let mut cparents = b.parents[iu].iter().filter(|p| cand[**p as usize]);
            let first = cparents.next();
            let second = cparents.next();
            w[iu] = match (first, second) {
                (None, _) => 1,
                (Some(p), None) => w[*p as usize] + 1,
                _ => {
                    stamp += 1;
                    let mut count = 0usize;
                    stack.clear();
                    stack.push(i);
                    while let Some(j) = stack.pop() {
                        let ju = j as usize;
                        if seen[ju] == stamp || !cand[ju] {
                            continue;
                        }
                        seen[ju] = stamp;
                        count += 1;
                        stack.extend(b.parents[ju].iter().copied());
                    }
                    count
                }
            };
        }
        Weights { w }
    }

    fn get(&self, i: usize) -> usize {
        self.w[i]
    }
}

/// Parents before children; ties in DAG order, so the order is deterministic.
fn topo_order(parents: &[Vec<u32>]) -> Vec<u32> {
    let n = parents.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut out = Vec::with_capacity(n);
    let mut stack: Vec<(u32, usize)> = Vec::new();
    for root in (0..n as u32).rev() {
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
            .map(|k| if k + 1 < n { vec![(k + 1) as u32] } else { vec![] })
            .collect();
        Dag { commits, parents }
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
                        let v = if k >= culprit { Verdict::Bad } else { Verdict::Good };
                        b.mark(&commit, v).unwrap();
                    }
                    Step::Found(c) => {
                        assert_eq!(c, id(culprit.max(0)));
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
