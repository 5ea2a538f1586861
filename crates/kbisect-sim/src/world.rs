//! The hidden truth of one trial (a planted culprit, broken builds) and
//! the parameters of the simulation.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use crate::load::Range;

/// Uniform in [0, 1).
pub fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// splitmix64: independent seeds from (seed, index).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One cell of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    /// Repro probability on revisions containing the culprit.
    pub p: f64,
    /// Unrelated-crash probability per run (when the bug does not fire).
    pub q: f64,
    /// Fraction of commits whose build fails.
    pub s: f64,
}

/// Fixed parameters of the simulation (the seed run's cost model).
#[derive(Clone, Copy, Debug)]
pub struct SimConfig {
    /// Fraction of unrelated crashes whose title looks like the target's
    /// (1.0: the hard case, indistinguishable by title).
    pub same_title: f64,
    /// Mean length of a stretch of broken builds along first parents.
    pub stretch: f64,
    /// Parallel test slots.
    pub slots: usize,
    /// Builds made at once (a build farm); each batch of up to this many
    /// takes one build's minutes.
    pub build_slots: usize,
    /// Minutes per build.
    pub build_min: f64,
    /// Minutes per batch of runs over the slots.
    pub run_min: f64,
    /// Cost of a run relative to a build.
    pub run_cost: f64,
    /// The builder says which files a build used (so docs-only commits are
    /// folded, never built); `false` for the ablation.
    pub files_used: bool,
    /// The syzkaller and plain strategies share evidence (`share_evidence`).
    pub share_evidence: bool,
    /// The confidence target of the bisection (bayes stops there).
    pub confidence: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            same_title: 1.0,
            stretch: 4.0,
            slots: 10,
            build_slots: 1,
            build_min: 5.0,
            run_min: 1.0,
            run_cost: 0.1,
            files_used: true,
            share_evidence: false,
            confidence: 0.95,
        }
    }
}

/// The hidden truth of one trial.
#[derive(Clone, Debug)]
pub struct Truth {
    /// The planted culprit (a range index; it builds and can change the binary).
    pub culprit: u32,
    /// Per range commit: its build fails (docs-only commits share their parent's).
    pub broken: Vec<bool>,
    /// Per range commit: the culprit is an ancestor-or-self.
    pub contains: Vec<bool>,
}

impl Truth {
    /// Broken builds come in stretches along first parents (a commit breaks
    /// the build, a few later ones fix it): a stretch starts with chance
    /// `lambda` and goes on with chance `1 - 1/stretch`, for a stationary
    /// fraction `s`. The culprit is drawn among buildable commits that can
    /// change the binary: one that does not build cannot be named exactly
    /// by any strategy. The start commit builds.
    pub fn draw(range: &Range, s: f64, cfg: &SimConfig, seed: u64) -> Truth {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = range.len();
        let mut broken = vec![false; n];
        if s > 0.0 {
            let lambda = s / (cfg.stretch * (1.0 - s));
            let cont = 1.0 - 1.0 / cfg.stretch;
            for i in 0..n {
                let fp = range.parents[i].first().map(|&p| p as usize);
                broken[i] = if range.docs[i] {
                    fp.is_some_and(|p| broken[p])
                } else if fp.is_some_and(|p| broken[p]) {
                    unit(&mut rng) < cont
                } else {
                    unit(&mut rng) < lambda
                };
            }
            broken[range.head as usize] = false;
            let hb = range.binary_of(range.head) as usize;
            broken[hb] = false;
        }
        let pool: Vec<u32> = (0..n as u32)
            .filter(|&i| !range.docs[i as usize] && !broken[i as usize])
            .collect();
        let culprit = if pool.is_empty() {
            range.head
        } else {
            pool[(rng.next_u64() % pool.len() as u64) as usize]
        };
        let mut contains = vec![false; n];
        contains[culprit as usize] = true;
        for i in culprit as usize + 1..n {
            contains[i] = range.parents[i].iter().any(|&p| contains[p as usize]);
        }
        Truth {
            culprit,
            broken,
            contains,
        }
    }
}
