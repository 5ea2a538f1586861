//! The posterior over "which commit is the culprit" (or none in the range)
//! jointly with the unknown rates, kept in equivalence classes.
//!
//! Hypothesis `c` predicts that a binary contains the bug iff `c` is among
//! the commits it was built from. So two candidates that are contained in
//! exactly the same tested binaries have the same likelihood, whatever the
//! runs were: the candidates fall into classes by their containment pattern
//! over the tested binaries, and the posterior is stored per (class, theta).
//! With the uniform prior over the candidates, a class's prior is its size.
//! Testing a new binary splits each class in two at most, so there are few
//! classes (about two per tested binary on real histories).

use std::collections::BTreeMap;

use super::graph::{BLOCK, BLOCK_WORDS, RangeDag};
use super::model::{Counts, Theta};

/// A hypothesis about the culprit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hyp {
    /// This commit of the range introduced the bug.
    Commit(u32),
    /// No commit of the range did: the bug predates the good end, so every
    /// revision (and the good end too) contains it.
    Old,
}

/// Index of a tested binary in the posterior.
pub type BinId = usize;

#[derive(Clone, Debug)]
struct Binary {
    /// The range commits it was built from (ancestors-or-self of its
    /// revision), as a bitset over the range; empty for a revision outside
    /// the range.
    anc: Vec<u64>,
    counts: Counts,
}

/// The posterior. Commits are the indices of a [`RangeDag`].
#[derive(Clone, Debug)]
pub struct Posterior {
    n: usize,
    thetas: Vec<Theta>,
    ncand: usize,
    prior_old: f64,
    binaries: Vec<Binary>,
    /// Class of each candidate (`u32::MAX` for the others).
    class_of: Vec<u32>,
    /// Per class: the binaries that contain it, and its size.
    class_bins: Vec<Vec<u32>>,
    class_count: Vec<u32>,
    /// Normalized joint posterior, class-major: `joint[k * G + t]`.
    joint: Vec<f64>,
    /// Joint posterior of `Hyp::Old` per theta.
    old: Vec<f64>,
    theta_marg: Vec<f64>,
    class_marg: Vec<f64>,
    old_marg: f64,
}

impl Posterior {
    /// The prior: uniform over the commits that can change the binary,
    /// `prior_old` on "none in the range".
    pub fn new(dag: &RangeDag, thetas: Vec<Theta>, prior_old: f64) -> Self {
        let n = dag.len();
        let cand: Vec<bool> = dag.same_binary_as_parent.iter().map(|x| !x).collect();
        let ncand = cand.iter().filter(|c| **c).count();
        let class_of: Vec<u32> = cand.iter().map(|&c| if c { 0 } else { u32::MAX }).collect();
        let prior_old = if ncand == 0 { 1.0 } else { prior_old };
        let mut p = Posterior {
            n,
            thetas,
            ncand,
            prior_old,
            binaries: Vec::new(),
            class_of,
            class_bins: if ncand > 0 {
                vec![Vec::new()]
            } else {
                Vec::new()
            },
            class_count: if ncand > 0 {
                vec![ncand as u32]
            } else {
                Vec::new()
            },
            joint: Vec::new(),
            old: Vec::new(),
            theta_marg: Vec::new(),
            class_marg: Vec::new(),
            old_marg: 0.0,
        };
        p.refresh();
        p
    }

    /// The grid.
    pub fn thetas(&self) -> &[Theta] {
        &self.thetas
    }

    /// Posterior over thetas.
    pub fn theta_posterior(&self) -> &[f64] {
        &self.theta_marg
    }

    /// The `a`-quantile of p's posterior (the smallest grid value of p at
    /// which the posterior mass at or below it reaches `a`).
    pub fn p_quantile(&self, a: f64) -> f64 {
        let mut by_p: Vec<(f64, f64)> = self
            .thetas
            .iter()
            .zip(&self.theta_marg)
            .map(|(t, w)| (t.p, *w))
            .collect();
        by_p.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut cum = 0.0;
        for (p, w) in &by_p {
            cum += w;
            if cum >= a {
                return *p;
            }
        }
        by_p.last().map_or(1.0, |x| x.0)
    }

    /// Posterior mean of p.
    pub fn p_mean(&self) -> f64 {
        self.thetas
            .iter()
            .zip(&self.theta_marg)
            .map(|(t, w)| t.p * w)
            .sum()
    }

    /// Posterior mean of q.
    pub fn q_mean(&self) -> f64 {
        self.thetas
            .iter()
            .zip(&self.theta_marg)
            .map(|(t, w)| t.q * w)
            .sum()
    }

    /// Number of classes (for diagnostics).
    pub fn classes(&self) -> usize {
        self.class_count.len()
    }

    /// Adds a binary built from `rev` (its ancestors-or-self); `None` for a
    /// revision outside the range (it contains no candidate). Splits the
    /// classes; the posterior is unchanged until runs arrive.
    pub fn add_binary(&mut self, dag: &RangeDag, rev: Option<u32>) -> BinId {
        let words = self.n.div_ceil(64);
        let mut anc = vec![0u64; words];
        let id = self.binaries.len() as u32;
        if let Some(r) = rev {
            let mask = dag.ancestors(&[r]);
            let mut split: BTreeMap<u32, u32> = BTreeMap::new();
            for c in 0..self.n {
                if !mask[c] {
                    continue;
                }
                anc[c / 64] |= 1u64 << (c % 64);
                let k = self.class_of[c];
                if k == u32::MAX {
                    continue;
                }
                let nk = *split.entry(k).or_insert_with(|| {
                    let mut bins = self.class_bins[k as usize].clone();
                    bins.push(id);
                    self.class_bins.push(bins);
                    self.class_count.push(0);
                    (self.class_count.len() - 1) as u32
                });
                self.class_of[c] = nk;
                self.class_count[k as usize] -= 1;
                self.class_count[nk as usize] += 1;
            }
            self.compact();
        }
        self.binaries.push(Binary {
            anc,
            counts: [0; 3],
        });
        self.refresh();
        id as BinId
    }

    /// Rules commits out as culprits (they are known not to change the
    /// binary: two revisions that differ by them built the same binary).
    pub fn exclude(&mut self, commits: &[u32]) {
        let mut any = false;
        for &c in commits {
            let k = self.class_of[c as usize];
            if k != u32::MAX {
                self.class_count[k as usize] -= 1;
                self.class_of[c as usize] = u32::MAX;
                any = true;
            }
        }
        if any {
            self.compact();
            self.refresh();
        }
    }

    /// Drops emptied classes (ids stay in order of creation: deterministic).
    fn compact(&mut self) {
        let mut remap = vec![u32::MAX; self.class_count.len()];
        let mut bins = Vec::new();
        let mut counts = Vec::new();
        for k in 0..self.class_count.len() {
            if self.class_count[k] > 0 {
                remap[k] = counts.len() as u32;
                counts.push(self.class_count[k]);
                bins.push(std::mem::take(&mut self.class_bins[k]));
            }
        }
        for k in self.class_of.iter_mut() {
            if *k != u32::MAX {
                *k = remap[*k as usize];
            }
        }
        self.class_bins = bins;
        self.class_count = counts;
    }

    /// Records informative runs on a binary and updates the posterior.
    pub fn add_runs(&mut self, b: BinId, c: &Counts) {
        for k in 0..3 {
            self.binaries[b].counts[k] += c[k];
        }
        self.refresh();
    }

    /// Runs recorded on a binary.
    pub fn counts(&self, b: BinId) -> Counts {
        self.binaries[b].counts
    }

    /// Whether binary `b` was built from commit `c`.
    pub fn binary_contains(&self, b: BinId, c: u32) -> bool {
        self.binaries[b].anc[c as usize / 64] >> (c % 64) & 1 == 1
    }

    /// Recomputes the normalized joint from the counts. K classes x G
    /// thetas x (binaries per class): well under a millisecond.
    fn refresh(&mut self) {
        let g = self.thetas.len();
        let mut base = vec![0.0f64; g];
        let mut all_in = vec![0.0f64; g];
        let mut delta = vec![0.0f64; self.binaries.len() * g];
        for (b, bin) in self.binaries.iter().enumerate() {
            for (t, th) in self.thetas.iter().enumerate() {
                let lin = th.loglik(&bin.counts, true);
                let lout = th.loglik(&bin.counts, false);
                base[t] += lout;
                all_in[t] += lin;
                delta[b * g + t] = lin - lout;
            }
        }
        let k_n = self.class_count.len();
        let mut ll = vec![0.0f64; k_n * g];
        for k in 0..k_n {
            let row = &mut ll[k * g..(k + 1) * g];
            row.copy_from_slice(&base);
            for &b in &self.class_bins[k] {
                let d = &delta[b as usize * g..(b as usize + 1) * g];
                for (x, y) in row.iter_mut().zip(d) {
                    *x += *y;
                }
            }
        }
        let unit = if self.ncand > 0 {
            (1.0 - self.prior_old) / self.ncand as f64
        } else {
            0.0
        };
        // Log weights, then one normalization.
        let mut lw = vec![f64::NEG_INFINITY; k_n * g];
        for k in 0..k_n {
            let lm = (unit * self.class_count[k] as f64).ln();
            for t in 0..g {
                lw[k * g + t] = lm + self.thetas[t].prior.ln() + ll[k * g + t];
            }
        }
        let mut lo = vec![f64::NEG_INFINITY; g];
        if self.prior_old > 0.0 {
            for t in 0..g {
                lo[t] = self.prior_old.ln() + self.thetas[t].prior.ln() + all_in[t];
            }
        }
        let m = lw
            .iter()
            .chain(&lo)
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let mut z = 0.0;
        for x in lw.iter_mut().chain(lo.iter_mut()) {
            *x = (*x - m).exp();
            z += *x;
        }
        for x in lw.iter_mut().chain(lo.iter_mut()) {
            *x /= z;
        }
        self.theta_marg = vec![0.0; g];
        self.class_marg = vec![0.0; k_n];
        for k in 0..k_n {
            for t in 0..g {
                self.theta_marg[t] += lw[k * g + t];
                self.class_marg[k] += lw[k * g + t];
            }
        }
        for t in 0..g {
            self.theta_marg[t] += lo[t];
        }
        self.old_marg = lo.iter().sum();
        self.joint = lw;
        self.old = lo;
    }

    /// Posterior probability of one hypothesis.
    pub fn prob(&self, h: Hyp) -> f64 {
        match h {
            Hyp::Old => self.old_marg,
            Hyp::Commit(c) => {
                let k = self.class_of[c as usize];
                if k == u32::MAX {
                    0.0
                } else {
                    self.class_marg[k as usize] / self.class_count[k as usize] as f64
                }
            }
        }
    }

    /// The `k` most probable hypotheses, best first (ties: lower index).
    pub fn top(&self, k: usize) -> Vec<(Hyp, f64)> {
        // The best commits are in the best classes: look at classes first.
        let mut per: Vec<(f64, u32)> = (0..self.class_count.len())
            .map(|c| (self.class_marg[c] / self.class_count[c] as f64, c as u32))
            .collect();
        per.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut out: Vec<(Hyp, f64)> = vec![(Hyp::Old, self.old_marg)];
        let mut taken = 0usize;
        for &(w, cls) in &per {
            if taken >= k {
                break;
            }
            for c in 0..self.n {
                if self.class_of[c] == cls {
                    out.push((Hyp::Commit(c as u32), w));
                    taken += 1;
                    if taken >= k {
                        break;
                    }
                }
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(k);
        out
    }

    /// Joint posterior of (the binary built from `rev` contains the bug,
    /// theta), per theta; `rev = None` for a revision outside the range.
    /// One walk over the revision's ancestors.
    pub fn contains_joint(&self, dag: &RangeDag, rev: Option<u32>) -> Vec<f64> {
        let g = self.thetas.len();
        let mut out = self.old.clone();
        let Some(r) = rev else { return out };
        let mask = dag.ancestors(&[r]);
        let mut per_class = vec![0u32; self.class_count.len()];
        for c in 0..self.n {
            if mask[c] && self.class_of[c] != u32::MAX {
                per_class[self.class_of[c] as usize] += 1;
            }
        }
        for (k, &cnt) in per_class.iter().enumerate() {
            if cnt == 0 {
                continue;
            }
            let f = cnt as f64 / self.class_count[k] as f64;
            for t in 0..g {
                out[t] += f * self.joint[k * g + t];
            }
        }
        out
    }

    /// P(the binary built from commit r contains the bug) for every commit
    /// r of the range, in one pass of block bitsets: columns are the
    /// candidates of the classes that still carry mass, grouped by class,
    /// so a row's weighted ancestor sum is a popcount per class segment.
    /// About n x (live candidates)/64 word operations.
    pub fn contains_all(&self, dag: &RangeDag) -> Vec<f64> {
        let n = self.n;
        let mut out = vec![self.old_marg; n];
        let k_n = self.class_count.len();
        // Classes that matter: drop the lightest while they add up to < 1e-12.
        let mut order: Vec<usize> = (0..k_n).collect();
        order.sort_by(|&a, &b| self.class_marg[a].total_cmp(&self.class_marg[b]));
        let mut live = vec![true; k_n];
        let mut dropped = 0.0;
        for &k in &order {
            dropped += self.class_marg[k];
            if dropped >= 1e-12 {
                break;
            }
            live[k] = false;
        }
        let weight: Vec<f64> = (0..k_n)
            .map(|k| self.class_marg[k] / self.class_count[k] as f64)
            .collect();
        // Columns grouped by class, each group in index order.
        let mut cols: Vec<u32> = (0..n as u32)
            .filter(|&c| {
                let k = self.class_of[c as usize];
                k != u32::MAX && live[k as usize]
            })
            .collect();
        cols.sort_by_key(|&c| (self.class_of[c as usize], c));
        let mut col_of = vec![u32::MAX; n];
        for (j, &c) in cols.iter().enumerate() {
            col_of[c as usize] = j as u32;
        }
        let mut rows = vec![0u64; n * BLOCK_WORDS];
        let mut lo = 0;
        while lo < cols.len() {
            let hi = (lo + BLOCK).min(cols.len());
            let first = cols[lo..hi].iter().copied().min().unwrap_or(0) as usize;
            // Class segments of this block: (weight, first bit, end bit).
            let mut segs: Vec<(f64, usize, usize)> = Vec::new();
            let mut s = lo;
            while s < hi {
                let k = self.class_of[cols[s] as usize];
                let mut e = s + 1;
                while e < hi && self.class_of[cols[e] as usize] == k {
                    e += 1;
                }
                segs.push((weight[k as usize], s - lo, e - lo));
                s = e;
            }
            rows[first * BLOCK_WORDS..].fill(0);
            for r in first..n {
                let (done, rest) = rows.split_at_mut(r * BLOCK_WORDS);
                let row = &mut rest[..BLOCK_WORDS];
                for &p in &dag.parents[r] {
                    let p = p as usize;
                    if p < first {
                        continue;
                    }
                    let prow = &done[p * BLOCK_WORDS..(p + 1) * BLOCK_WORDS];
                    for (a, b) in row.iter_mut().zip(prow) {
                        *a |= *b;
                    }
                }
                let j = col_of[r] as usize;
                if j >= lo && j < hi {
                    let bit = j - lo;
                    row[bit / 64] |= 1u64 << (bit % 64);
                }
                if row.iter().all(|w| *w == 0) {
                    continue;
                }
                let mut acc = 0.0;
                for &(w, a, b) in &segs {
                    acc += w * popcount_range(row, a, b) as f64;
                }
                out[r] += acc;
            }
            lo = hi;
        }
        for x in out.iter_mut() {
            *x = x.clamp(0.0, 1.0);
        }
        out
    }
}

/// Set bits of `row` in `[a, b)`.
fn popcount_range(row: &[u64], a: usize, b: usize) -> u32 {
    let (wa, wb) = (a / 64, (b - 1) / 64);
    let lo_mask = !0u64 << (a % 64);
    let hi_mask = if b.is_multiple_of(64) {
        !0u64
    } else {
        (1u64 << (b % 64)) - 1
    };
    if wa == wb {
        return (row[wa] & lo_mask & hi_mask).count_ones();
    }
    let mut s = (row[wa] & lo_mask).count_ones() + (row[wb] & hi_mask).count_ones();
    for w in &row[wa + 1..wb] {
        s += w.count_ones();
    }
    s
}
