//! The observation model: what one run on a built revision shows, given
//! whether the revision has the bug and the unknown rates.
//!
//! A run on a revision that has the bug fires it with probability `p`;
//! when it fires, the crash carries the target's title, except with
//! probability `v` (a variant: same bug, other symptom). When the bug does
//! not fire (or the revision does not have it) an unrelated crash may
//! appear: one that looks like ours (same title) with probability `q`, one
//! with another title with probability `q_other`.
//!
//! **The title rule.** A crash whose title equals the target's (the start
//! commit's representative crash, after the parser's normalization) is a
//! [`RunObs::Match`]; a crash with another title that is not a transient
//! kind is [`RunObs::Other`]. A match has likelihood ratio
//! `(p(1-v) + (1-p)q) / q` (≈ 36 at p = 0.2, q = 0.005), another title only
//! `1 + p(v - q_other)/q_other` (1.8 at p = 0.2, 5 at p = 1), a clean run
//! `1 - p`: another title counts for a little (it may be our bug's other
//! face), never as much as the target's. Transient kinds (SYZFATAL, lost
//! connection, when the target is neither) and lost runs are
//! [`RunObs::Nothing`]; boot and basic-test failures are
//! [`RunObs::Broken`]: no evidence either, and a revision that shows
//! nothing else cannot be tested at all.
//!
//! `p` and `q` are unknown: the posterior is kept jointly over a grid of
//! (p, q) points, the *thetas*. `v` and `q_other` are fixed.
//!
//! In a fix bisection the culprit is the fix: a revision that *contains*
//! it does not have the bug. [`thetas`] then swaps the two sides, and the
//! rest of the strategy speaks of "contains the culprit" only.

/// One run as the strategy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RunObs {
    /// No crash.
    Ok,
    /// A crash whose title matches the target's.
    Match,
    /// A crash with another title (not a transient kind).
    Other,
    /// No evidence: a transient crash, a run lost to the infrastructure.
    Nothing,
    /// No evidence, and a sign the revision cannot be tested (boot or
    /// basic-test failure).
    Broken,
}

impl RunObs {
    /// Index into the count triple (`Nothing` and `Broken` have none).
    pub fn slot(self) -> Option<usize> {
        match self {
            RunObs::Match => Some(0),
            RunObs::Other => Some(1),
            RunObs::Ok => Some(2),
            RunObs::Nothing | RunObs::Broken => None,
        }
    }
}

/// Counts of informative runs: `[match, other, ok]`.
pub type Counts = [u32; 3];

/// Counts of a list of runs.
pub fn counts_of(obs: &[RunObs]) -> Counts {
    let mut c: Counts = [0; 3];
    for o in obs {
        if let Some(k) = o.slot() {
            c[k] += 1;
        }
    }
    c
}

/// Parameters of the model.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// Grid of repro probabilities, ascending; may end at 1.0.
    pub p_grid: Vec<f64>,
    /// Prior weight of each `p_grid` point (normalized internally).
    pub p_prior: Vec<f64>,
    /// Grid of rates of unrelated crashes that look like ours.
    pub q_grid: Vec<f64>,
    /// Prior weight of each `q_grid` point.
    pub q_prior: Vec<f64>,
    /// Rate of unrelated crashes with another title.
    pub q_other: f64,
    /// Chance the bug, when it fires, shows another title.
    pub variant: f64,
    /// Prior of "no culprit in the range": the bug predates the clean end.
    pub prior_old: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        // Geometric-ish below 0.5 (where per-run information changes fast),
        // and a point at 1.0 for deterministic reproducers, which are
        // common; the benchmark's flaky values (0.7, 0.4, 0.2, 0.1) are
        // deliberately not grid points.
        let p_grid = vec![
            0.04, 0.06, 0.09, 0.13, 0.18, 0.25, 0.33, 0.42, 0.52, 0.62, 0.72, 0.81, 0.9, 1.0,
        ];
        let flaky = p_grid.len() - 1;
        let mut p_prior = vec![0.3 / flaky as f64; flaky];
        p_prior.push(0.7);
        ModelConfig {
            p_grid,
            p_prior,
            q_grid: vec![0.001, 0.005, 0.015, 0.03],
            q_prior: vec![0.4, 0.3, 0.2, 0.1],
            q_other: 0.02,
            variant: 0.1,
            prior_old: 0.01,
        }
    }
}

/// One grid point with its per-run log-likelihoods.
#[derive(Clone, Debug)]
pub struct Theta {
    /// Repro probability.
    pub p: f64,
    /// Rate of unrelated crashes that look like ours.
    pub q: f64,
    /// Normalized prior.
    pub prior: f64,
    /// log P(match, other, ok | contains the culprit).
    pub ln_in: [f64; 3],
    /// log P(match, other, ok | does not contain it).
    pub ln_out: [f64; 3],
    /// P(match | contains).
    pub match_in: f64,
    /// P(match | does not contain).
    pub match_out: f64,
    /// P(any crash | contains): the planner's channel beyond ten runs.
    pub crash_in: f64,
    /// P(any crash | does not contain).
    pub crash_out: f64,
}

impl Theta {
    /// log-likelihood of `c` runs on a revision that does (`inside`) or does
    /// not contain the culprit. Empty counts never meet a zero probability,
    /// so `0 * ln 0` does not arise.
    pub fn loglik(&self, c: &Counts, inside: bool) -> f64 {
        let ln = if inside { &self.ln_in } else { &self.ln_out };
        let mut s = 0.0;
        for k in 0..3 {
            if c[k] > 0 {
                s += c[k] as f64 * ln[k];
            }
        }
        s
    }
}

/// The smallest probability an outcome is given.
const MIN_PROB: f64 = 1e-12;

/// Probabilities of (match, other, ok) on a revision that has the bug
/// (`buggy`) or not.
pub fn outcome_probs(p: f64, q: f64, q_other: f64, v: f64, buggy: bool) -> [f64; 3] {
    let quiet = 1.0 - q - q_other;
    if buggy {
        [
            p * (1.0 - v) + (1.0 - p) * q,
            p * v + (1.0 - p) * q_other,
            (1.0 - p) * quiet,
        ]
    } else {
        [q, q_other, quiet]
    }
}

/// The grid with normalized priors, in the bisection's terms: for a cause
/// bisection "contains the culprit" is "has the bug", for a fix bisection
/// (`fix`) it is "has the fix". Points where the bug would crash less than
/// twice as often as unrelated look-alikes are dropped: such a bug is not
/// bisectable and those points only blur the posterior.
pub fn thetas(cfg: &ModelConfig, fix: bool) -> Vec<Theta> {
    let mut out = Vec::new();
    for (i, &p) in cfg.p_grid.iter().enumerate() {
        for (j, &q) in cfg.q_grid.iter().enumerate() {
            if p < 2.0 * q {
                continue;
            }
            let buggy = outcome_probs(p, q, cfg.q_other, cfg.variant, true);
            let clean = outcome_probs(p, q, cfg.q_other, cfg.variant, false);
            let (pin, pout) = if fix { (clean, buggy) } else { (buggy, clean) };
            out.push(Theta {
                p,
                q,
                prior: cfg.p_prior.get(i).copied().unwrap_or(0.0)
                    * cfg.q_prior.get(j).copied().unwrap_or(0.0),
                // Floored so that an impossible outcome (a clean run at
                // p = 1) is merely very unlikely: the posterior adds and
                // subtracts these, and -inf - -inf would be NaN.
                ln_in: pin.map(|x| x.max(MIN_PROB).ln()),
                ln_out: pout.map(|x| x.max(MIN_PROB).ln()),
                match_in: pin[0],
                match_out: pout[0],
                crash_in: pin[0] + pin[1],
                crash_out: pout[0] + pout[1],
            });
        }
    }
    let z: f64 = out.iter().map(|t| t.prior).sum();
    if z > 0.0 {
        for t in &mut out {
            t.prior /= z;
        }
    }
    out
}

/// P(the revision contains the culprit | only its own runs), from an even
/// prior and the given distribution over thetas: how the 0-day bot's
/// parent-vs-culprit table reads on its own.
pub fn own_runs_posterior(thetas: &[Theta], theta_post: &[f64], c: &Counts) -> f64 {
    // Likelihoods can be tiny; factor out the largest log.
    let l1: Vec<f64> = thetas.iter().map(|t| t.loglik(c, true)).collect();
    let l0: Vec<f64> = thetas.iter().map(|t| t.loglik(c, false)).collect();
    let m = l1
        .iter()
        .chain(&l0)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut a, mut b) = (0.0, 0.0);
    for k in 0..thetas.len() {
        a += theta_post[k] * (l1[k] - m).exp();
        b += theta_post[k] * (l0[k] - m).exp();
    }
    if a + b > 0.0 { a / (a + b) } else { 0.5 }
}

/// The theta weights restricted to `p <= p_max` (renormalized; all of them
/// when none is left): a reliable reproducer is an assumption the search
/// may rest on, a judgement on a revision's own runs may not.
pub fn restricted(thetas: &[Theta], w: &[f64], p_max: f64) -> Vec<f64> {
    let mut r: Vec<f64> = thetas
        .iter()
        .zip(w)
        .map(|(t, w)| if t.p <= p_max { *w } else { 0.0 })
        .collect();
    let z: f64 = r.iter().sum();
    if z > 0.0 {
        r.iter_mut().for_each(|x| *x /= z);
        r
    } else {
        w.to_vec()
    }
}
