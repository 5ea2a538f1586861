//! `git bisect` on a [`RangeDag`]: the rules of `dag.rs` (the same halfway
//! choice, the same skip handling) on indices, so the search can ask what
//! `git bisect` would test next on the verdicts the posterior has decided.
//! The two agree step for step (see the test below).

use super::graph::RangeDag;

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Test this commit.
    Test(u32),
    /// The first bad commit.
    Found(u32),
    /// Only skipped commits remain (the skipped candidates, then the bad one).
    OnlySkipped(Vec<u32>),
}

/// A verdict in git bisect's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// The culprit is not an ancestor-or-self.
    Good,
    /// The culprit is an ancestor-or-self.
    Bad,
    /// Cannot tell.
    Skip,
}

/// One bisection: `bad` starts as the bad end.
#[derive(Clone, Debug)]
pub struct GitBisect {
    bad: u32,
    goods: Vec<u32>,
    skipped: Vec<bool>,
}

impl GitBisect {
    /// Starts with `bad` known bad and nothing else known.
    pub fn new(dag: &RangeDag, bad: u32) -> Self {
        GitBisect {
            bad,
            goods: Vec::new(),
            skipped: vec![false; dag.len()],
        }
    }

    /// Records a verdict.
    pub fn mark(&mut self, i: u32, m: Mark) {
        match m {
            Mark::Good => self.goods.push(i),
            Mark::Bad => self.bad = i,
            Mark::Skip => self.skipped[i as usize] = true,
        }
    }

    /// Candidates: ancestors of the bad commit, not ancestors of a good one.
    pub fn candidates(&self, dag: &RangeDag) -> Vec<bool> {
        let good = dag.ancestors(&self.goods);
        let mut cand = dag.ancestors(&[self.bad]);
        for (c, g) in cand.iter_mut().zip(&good) {
            *c &= !*g;
        }
        cand
    }

    /// The next step.
    pub fn next(&self, dag: &RangeDag) -> Step {
        let cand = self.candidates(dag);
        let nr = cand.iter().filter(|c| **c).count();
        let w = dag.ancestor_counts(&cand);
        let any_skipped = (0..dag.len()).any(|i| cand[i] && self.skipped[i]);
        let chosen = if any_skipped {
            (0..dag.len())
                .filter(|&i| cand[i] && !self.skipped[i])
                .map(|i| {
                    let wi = w[i] as usize;
                    (std::cmp::Reverse(wi.min(nr - wi)), i as u32)
                })
                .min()
                .map(|(_, i)| i)
        } else {
            Some(git_choice(dag, &cand, nr, &w, self.bad))
        };
        match chosen {
            Some(i) if i != self.bad => Step::Test(i),
            _ => {
                let mut skipped: Vec<u32> = (0..dag.len() as u32)
                    .filter(|&i| cand[i as usize] && self.skipped[i as usize] && i != self.bad)
                    .collect();
                if skipped.is_empty() {
                    Step::Found(self.bad)
                } else {
                    skipped.push(self.bad);
                    Step::OnlySkipped(skipped)
                }
            }
        }
    }
}

/// git's bisect.c choice on the range's indices (oldest first already).
fn git_choice(dag: &RangeDag, cand: &[bool], nr: usize, w: &[u32], bad: u32) -> u32 {
    let list: Vec<u32> = (0..dag.len() as u32)
        .filter(|&i| cand[i as usize])
        .collect();
    crate::dag::git_halfway(&dag.parents, cand, &list, nr, |i| w[i] as usize, bad)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Verdict;
    use crate::dag::{DagBisect, Step as DagStep};
    use kbisect_git::{CommitId, Dag};

    fn id(i: usize) -> CommitId {
        format!("{i:040x}").parse().unwrap()
    }

    /// On random DAGs with merges and a deterministic culprit, the index
    /// port walks exactly dag.rs's path (the DAG in rev-list order is the
    /// index order reversed).
    #[test]
    fn same_path_as_dag_rs() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |m: usize| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % m as u64) as usize
        };
        for round in 0..60 {
            let n = 2 + rnd(if round < 50 { 80 } else { 1500 });
            let mut parents: Vec<Vec<u32>> = (0..n)
                .map(|i| {
                    let mut ps = Vec::new();
                    if i > 0 {
                        ps.push((i - 1 - rnd(i.min(4))) as u32);
                        if rnd(4) == 0 && i > 2 {
                            let q = (i - 1 - rnd(i.min(20))) as u32;
                            if !ps.contains(&q) {
                                ps.push(q);
                            }
                        }
                    }
                    ps
                })
                .collect();
            // Everything reaches the head.
            let mut has_child = vec![false; n];
            for ps in &parents {
                for &p in ps {
                    has_child[p as usize] = true;
                }
            }
            for i in 0..n - 1 {
                if !has_child[i] {
                    parents[n - 1].push(i as u32);
                }
            }
            let dag = RangeDag::new(parents.clone(), vec![false; n]).unwrap();
            let culprit = rnd(n) as u32;
            let contains = {
                let mut c = vec![false; n];
                c[culprit as usize] = true;
                for i in culprit as usize + 1..n {
                    c[i] = dag.parents[i].iter().any(|&p| c[p as usize]);
                }
                c
            };
            // dag.rs view: rev-list order = indices reversed.
            let rl = |i: u32| (n - 1 - i as usize) as u32;
            let d = Dag {
                commits: (0..n).map(|k| id(n - 1 - k)).collect(),
                parents: (0..n)
                    .map(|k| parents[n - 1 - k].iter().map(|&p| rl(p)).collect())
                    .collect(),
            };
            let mut a = GitBisect::new(&dag, n as u32 - 1);
            let mut b = DagBisect::new(d, &id(n - 1)).unwrap();
            loop {
                let (sa, sb) = (a.next(&dag), b.next());
                match (sa, sb) {
                    (Step::Test(i), DagStep::Test { commit, .. }) => {
                        assert_eq!(id(i as usize), commit, "n={n}");
                        let bad = contains[i as usize];
                        a.mark(i, if bad { Mark::Bad } else { Mark::Good });
                        b.mark(&commit, if bad { Verdict::Bad } else { Verdict::Good })
                            .unwrap();
                    }
                    (Step::Found(i), DagStep::Found(c)) => {
                        assert_eq!(id(i as usize), c);
                        assert_eq!(i, culprit);
                        break;
                    }
                    (x, y) => panic!("n={n}: {x:?} vs {y:?}"),
                }
            }
        }
    }
}
