//! Choosing what to run next: expected information per unit of cost.
//!
//! The runs on one binary inform the culprit only through one bit, Z = "this
//! binary contains the bug", so the value of n more runs on it is the mutual
//! information I(Z; Y_n) between Z and the outcomes Y_n of n runs, under
//! the joint posterior of (Z, theta): the predictive already averages over
//! the unknown p and q. Up to [`TRI_MAX`] runs the outcomes are the exact
//! (match, other, clean) counts; beyond, crash / no crash (a lower bound,
//! used only to judge whether a new build deserves many runs). A new
//! build costs a build plus its runs, a built binary only its runs: so
//! re-running an ambiguous revision wins as long as its next run is worth
//! more than a run on a fresh one, and a decided revision (I ~ 0) is left
//! alone.

use super::model::Theta;

/// What one build and one run cost, in the unit of the cost metric.
#[derive(Clone, Copy, Debug)]
pub struct Costs {
    /// A build (default 1: five minutes).
    pub build: f64,
    /// One run (default 0.1: one minute).
    pub run: f64,
}

impl Default for Costs {
    fn default() -> Self {
        Costs {
            build: 1.0,
            run: 0.1,
        }
    }
}

/// Predictive tables, fixed for a strategy and made once: for up to
/// `TRI_MAX` runs the exact distribution of (matching crashes, other
/// crashes) per theta (a clean run, a look-alike and another title weigh
/// very differently at high p); beyond, the binomial of "any crash".
#[derive(Clone, Debug)]
pub struct PmfCache {
    max_n: usize,
    /// `tri_in[n][t]` = pmf over the (a, b) states, a + b <= n.
    tri_in: Vec<Vec<Vec<f64>>>,
    tri_out: Vec<Vec<Vec<f64>>>,
    /// `bin_in[n][t]` = pmf of the crash count over 0..=n.
    bin_in: Vec<Vec<Vec<f64>>>,
    bin_out: Vec<Vec<Vec<f64>>>,
}

/// Largest run count planned with the exact three-outcome distribution.
pub const TRI_MAX: usize = 10;

fn trinomial(n: usize, pr: [f64; 3]) -> Vec<f64> {
    // Over (a matches, b others, n - a - b clean), a-major.
    let mut lf = vec![0.0f64; n + 1];
    for k in 1..=n {
        lf[k] = lf[k - 1] + (k as f64).ln();
    }
    let term = |k: usize, p: f64| {
        if k == 0 {
            0.0
        } else if p <= 0.0 {
            f64::NEG_INFINITY
        } else {
            k as f64 * p.ln()
        }
    };
    let mut out = Vec::with_capacity((n + 1) * (n + 2) / 2);
    for a in 0..=n {
        for b in 0..=n - a {
            let c = n - a - b;
            let l =
                lf[n] - lf[a] - lf[b] - lf[c] + term(a, pr[0]) + term(b, pr[1]) + term(c, pr[2]);
            out.push(l.exp());
        }
    }
    out
}

impl PmfCache {
    /// Tables up to `max_n` runs.
    pub fn new(thetas: &[Theta], max_n: usize) -> Self {
        let bin = |pi: &dyn Fn(&Theta) -> f64| -> Vec<Vec<Vec<f64>>> {
            (0..=max_n)
                .map(|n| thetas.iter().map(|t| binomial(n, pi(t))).collect())
                .collect()
        };
        let tri = |pr: &dyn Fn(&Theta) -> [f64; 3]| -> Vec<Vec<Vec<f64>>> {
            (0..=TRI_MAX)
                .map(|n| thetas.iter().map(|t| trinomial(n, pr(t))).collect())
                .collect()
        };
        PmfCache {
            max_n,
            tri_in: tri(&|t| t.ln_in.map(f64::exp)),
            tri_out: tri(&|t| t.ln_out.map(f64::exp)),
            bin_in: bin(&|t| t.crash_in),
            bin_out: bin(&|t| t.crash_out),
        }
    }

    /// Largest run count in the tables.
    pub fn max_n(&self) -> usize {
        self.max_n
    }

    fn tables(&self, n: usize) -> (&[Vec<f64>], &[Vec<f64>]) {
        if n <= TRI_MAX {
            (&self.tri_in[n], &self.tri_out[n])
        } else {
            (&self.bin_in[n], &self.bin_out[n])
        }
    }
}

fn binomial(n: usize, p: f64) -> Vec<f64> {
    // Recurrence on k; exact enough for n <= 100.
    let mut out = vec![0.0; n + 1];
    if p <= 0.0 {
        out[0] = 1.0;
        return out;
    }
    if p >= 1.0 {
        out[n] = 1.0;
        return out;
    }
    let mut c = 1.0f64;
    for (k, slot) in out.iter_mut().enumerate() {
        *slot = c * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32);
        c = c * (n - k) as f64 / (k + 1) as f64;
    }
    out
}

/// I(Z; Y_n) in bits for each `n` in `ns`, where `inside[t]` is the joint
/// posterior of (Z = 1, theta t) and `theta_marg[t]` that of theta t.
pub fn info_curve(pmf: &PmfCache, inside: &[f64], theta_marg: &[f64], ns: &[usize]) -> Vec<f64> {
    let g = inside.len();
    let j1: Vec<f64> = inside.to_vec();
    let j0: Vec<f64> = (0..g)
        .map(|t| (theta_marg[t] - inside[t]).max(0.0))
        .collect();
    let p1: f64 = j1.iter().sum();
    let p0: f64 = j0.iter().sum();
    if p1 <= 1e-12 || p0 <= 1e-12 {
        return vec![0.0; ns.len()];
    }
    ns.iter()
        .map(|&n| {
            let n = n.min(pmf.max_n);
            let (tin, tout) = pmf.tables(n);
            let states = tin.first().map_or(0, |v| v.len());
            let mut a1 = vec![0.0; states];
            let mut a0 = vec![0.0; states];
            for t in 0..g {
                let (w1, w0) = (j1[t], j0[t]);
                if w1 > 0.0 {
                    for (a, b) in a1.iter_mut().zip(&tin[t]) {
                        *a += w1 * b;
                    }
                }
                if w0 > 0.0 {
                    for (a, b) in a0.iter_mut().zip(&tout[t]) {
                        *a += w0 * b;
                    }
                }
            }
            let mut i = 0.0;
            for y in 0..states {
                let py = a1[y] + a0[y];
                if py <= 0.0 {
                    continue;
                }
                if a1[y] > 0.0 {
                    i += a1[y] * (a1[y] / (py * p1)).ln();
                }
                if a0[y] > 0.0 {
                    i += a0[y] * (a0[y] / (py * p0)).ln();
                }
            }
            (i / std::f64::consts::LN_2).max(0.0)
        })
        .collect()
}

/// Run counts considered for a new build (more than the slots: a build's
/// value is judged over the runs it will get, in this round and later).
pub const NEW_BUILD_RUNS: [usize; 15] = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50];

/// An option for this round.
#[derive(Clone, Debug)]
pub struct Candidate<K> {
    /// What the caller calls it.
    pub key: K,
    /// `info[n]` = I(Z; Y_n) for n = 0..=slots (built) or over
    /// [`NEW_BUILD_RUNS`] (new).
    pub info: Vec<f64>,
    /// Chance the build succeeds (1 for built binaries).
    pub p_build_ok: f64,
}

/// A planned job.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned<K> {
    /// The option's key.
    pub key: K,
    /// Runs to make now.
    pub runs: usize,
    /// Whether this needs a build first.
    pub build: bool,
}

/// Information rate of a new build: (best bits per cost, runs to make now).
///
/// The runs made now are the fewest whose rate comes within `lazy` (a
/// fraction) of the best: a run left for later costs the same then, runs in
/// parallel with the next build's, and is often not needed once the first
/// runs are in (at p ~ 1 a second run only guards against the rare
/// unrelated crash, and the planner asks for it only when the first run did
/// crash).
pub fn new_build_rate(c: &Candidate<impl Clone>, costs: Costs, lazy: f64) -> (f64, usize) {
    let rate = |k: usize| {
        let n = NEW_BUILD_RUNS[k] as f64;
        c.p_build_ok * c.info[k] / (costs.build + c.p_build_ok * costs.run * n)
    };
    let best = (0..NEW_BUILD_RUNS.len()).map(rate).fold(0.0f64, f64::max);
    let now = (0..NEW_BUILD_RUNS.len())
        .find(|&k| rate(k) >= (1.0 - lazy) * best)
        .map_or(1, |k| NEW_BUILD_RUNS[k]);
    (best, now)
}

/// Fills `slots` run slots for one round. Runs on built binaries are taken
/// one at a time by their marginal information per run cost, as long as a
/// run beats the going rate of the best new build (what the money would
/// buy otherwise); the best new build, if any, takes its planned runs (up
/// to the free slots) once no built run beats it. At most one new build a
/// round: builds are sequential, so a second one would only be chosen
/// without the first one's answer. `preferred = (index into new, tolerance)`
/// names a new build to take whenever its rate is within the tolerance of
/// the best one.
pub fn plan_round<K: Clone>(
    built: &[Candidate<K>],
    new: &[Candidate<K>],
    slots: usize,
    costs: Costs,
    min_rate: f64,
    lazy: f64,
    preferred: Option<(usize, f64)>,
) -> Vec<Planned<K>> {
    let mut best_new: Option<(usize, f64, usize)> = None;
    let rates: Vec<(f64, usize)> = new.iter().map(|c| new_build_rate(c, costs, lazy)).collect();
    for (i, &(rate, n)) in rates.iter().enumerate() {
        if best_new.is_none_or(|(_, r, _)| rate > r + 1e-12) {
            best_new = Some((i, rate, n));
        }
    }
    // A preferred option (git's own choice) wins when it is nearly as good.
    if let (Some((i, tol)), Some((_, best, _))) = (preferred, best_new)
        && i < rates.len()
        && rates[i].0 >= (1.0 - tol) * best
    {
        best_new = Some((i, rates[i].0, rates[i].1));
    }
    let new_rate = best_new.map_or(0.0, |b| b.1);
    let mut alloc = vec![0usize; built.len()];
    let mut out: Vec<Planned<K>> = Vec::new();
    let mut free = slots;
    let mut new_taken = false;
    while free > 0 {
        let mut best: Option<(usize, f64)> = None;
        for (i, c) in built.iter().enumerate() {
            let a = alloc[i];
            if a + 1 >= c.info.len() {
                continue;
            }
            let gain = (c.info[a + 1] - c.info[a]) / costs.run;
            if best.is_none_or(|(_, g)| gain > g + 1e-12) {
                best = Some((i, gain));
            }
        }
        match best {
            Some((i, g)) if g >= min_rate && (best_new.is_none() || g >= new_rate) => {
                alloc[i] += 1;
                free -= 1;
            }
            _ => {
                if new_taken {
                    break;
                }
                match best_new {
                    Some((i, rate, n)) if rate >= min_rate => {
                        let runs = n.min(free);
                        out.push(Planned {
                            key: new[i].key.clone(),
                            runs,
                            build: true,
                        });
                        free -= runs;
                        new_taken = true;
                    }
                    _ => break,
                }
            }
        }
    }
    for (i, &a) in alloc.iter().enumerate() {
        if a > 0 {
            out.push(Planned {
                key: built[i].key.clone(),
                runs: a,
                build: false,
            });
        }
    }
    out
}

/// Binary entropy in bits.
pub fn h2(x: f64) -> f64 {
    if x <= 0.0 || x >= 1.0 {
        return 0.0;
    }
    -(x * x.log2() + (1.0 - x) * (1.0 - x).log2())
}
