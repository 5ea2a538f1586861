//! Per-cell summaries: one text table (with calibration) or JSON.

use serde::Serialize;

use crate::trial::{Strat, TrialOut};
use crate::world::Cell;

/// Calibration buckets by reported confidence: [0.5,0.8), [0.8,0.9),
/// [0.9,0.95), [0.95,0.99), [0.99,1].
pub const BUCKETS: [f64; 6] = [0.5, 0.8, 0.9, 0.95, 0.99, 1.000_001];

/// Trials in one calibration bucket, and how many were right.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Bucket {
    /// Lower bound of the reported confidence.
    pub from: f64,
    /// Upper bound (exclusive, but 1.0 is in the last bucket).
    pub to: f64,
    /// Trials whose reported confidence falls in the bucket.
    pub trials: usize,
    /// Of those, the ones whose best candidate was the culprit.
    pub right: usize,
}

fn buckets() -> Vec<Bucket> {
    (0..BUCKETS.len() - 1)
        .map(|k| Bucket {
            from: BUCKETS[k],
            to: BUCKETS[k + 1].min(1.0),
            trials: 0,
            right: 0,
        })
        .collect()
}

/// Means per trial and the calibration of one (range, cell, strategy).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Range name.
    pub range: String,
    /// Strategy.
    pub strategy: String,
    /// p.
    pub repro_chance: f64,
    /// q.
    pub unrelated: f64,
    /// s.
    pub broken: f64,
    /// Trials.
    pub trials: usize,
    /// Fraction naming the right culprit as certain.
    pub accuracy: f64,
    /// Accuracy among the trials an oracle can solve.
    pub accuracy_identifiable: f64,
    /// Fraction naming a wrong culprit as certain.
    pub wrong: f64,
    /// Fraction with no certain answer (unsure, errors, inconclusive).
    pub none: f64,
    /// Mean builds (failed ones included).
    pub builds: f64,
    /// Mean runs.
    pub runs: f64,
    /// Mean cost (builds + run cost × runs).
    pub cost: f64,
    /// Mean wall hours under the seed's cost model.
    pub wall_hours: f64,
    /// Mean builds of an already built binary.
    pub rebuilt: f64,
    /// Mean commits folded into their parent's evidence (never built).
    pub folded: f64,
    /// Mean builds that shared an already tested binary's runs.
    pub shared: f64,
    /// Trials with a wrong culprit reported at confidence >= 0.95.
    pub wrong_at_95: usize,
    /// Calibration by reported confidence.
    pub calibration: Vec<Bucket>,
}

impl Summary {
    /// Summarizes trials.
    pub fn new(range: &str, strat: Strat, cell: Cell, t: &[TrialOut]) -> Summary {
        let n = t.len().max(1) as f64;
        let mean = |f: &dyn Fn(&TrialOut) -> f64| t.iter().map(f).sum::<f64>() / n;
        let mut cal = buckets();
        let mut wrong_at_95 = 0;
        for x in t {
            let c = x.answer.confidence;
            let right = x.answer.best == Some(x.culprit);
            for b in cal.iter_mut() {
                if c >= b.from && (c < b.to || (b.to >= 1.0 && c <= 1.0)) {
                    b.trials += 1;
                    b.right += usize::from(right);
                    break;
                }
            }
            if x.answer.confident && !right && c >= 0.95 {
                wrong_at_95 += 1;
            }
        }
        let ids: Vec<&TrialOut> = t.iter().filter(|x| x.identifiable).collect();
        Summary {
            range: range.to_string(),
            strategy: strat.name().to_string(),
            repro_chance: cell.p,
            unrelated: cell.q,
            broken: cell.s,
            trials: t.len(),
            accuracy: mean(&|x| f64::from(u8::from(x.correct()))),
            accuracy_identifiable: ids.iter().filter(|x| x.correct()).count() as f64
                / ids.len().max(1) as f64,
            wrong: mean(&|x| {
                f64::from(u8::from(
                    x.answer.confident && x.answer.culprit != Some(x.culprit),
                ))
            }),
            none: mean(&|x| f64::from(u8::from(!x.answer.confident))),
            builds: mean(&|x| x.builds as f64),
            runs: mean(&|x| x.runs as f64),
            cost: mean(&|x| x.cost),
            wall_hours: mean(&|x| x.wall / 60.0),
            rebuilt: mean(&|x| x.rebuilt as f64),
            folded: mean(&|x| x.folded as f64),
            shared: mean(&|x| x.shared as f64),
            wrong_at_95,
            calibration: cal,
        }
    }

    /// Header of the text table.
    pub fn header() -> String {
        format!(
            "{:<18} {:>4} {:>4} {:>4} {:<9} {:>5} {:>5} {:>5} {:>5} {:>6} {:>5} {:>5} {:>7} {:>6} {:>6} {:>4}  {}",
            "range",
            "p",
            "q",
            "s",
            "strategy",
            "acc",
            "acc*",
            "wrong",
            "none",
            "builds",
            "rebld",
            "fold",
            "runs",
            "cost",
            "wall_h",
            "w95",
            "calibration [.5,.8) [.8,.9) [.9,.95) [.95,.99) >=.99: right/n"
        )
    }

    /// One line of the text table.
    pub fn line(&self) -> String {
        let cal: Vec<String> = self
            .calibration
            .iter()
            .map(|b| {
                if b.trials == 0 {
                    "-".to_string()
                } else {
                    format!("{:.2}/{}", b.right as f64 / b.trials as f64, b.trials)
                }
            })
            .collect();
        format!(
            "{:<18} {:>4} {:>4} {:>4} {:<9} {:>5.3} {:>5.3} {:>5.3} {:>5.3} {:>6.1} {:>5.2} {:>5.1} {:>7.1} {:>6.1} {:>6.2} {:>4}  {}",
            self.range,
            self.repro_chance,
            self.unrelated,
            self.broken,
            self.strategy,
            self.accuracy,
            self.accuracy_identifiable,
            self.wrong,
            self.none,
            self.builds,
            self.rebuilt,
            self.folded,
            self.runs,
            self.cost,
            self.wall_hours,
            self.wrong_at_95,
            cal.join(" ")
        )
    }
}

/// Calibration pooled over every cell of a strategy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pooled {
    /// The strategy.
    pub strategy: String,
    /// Its buckets.
    pub calibration: Vec<Bucket>,
}

/// Pools the calibration of every summary, per strategy (in table order).
pub fn pooled(rows: &[Summary]) -> Vec<Pooled> {
    let mut out: Vec<Pooled> = Vec::new();
    for s in Strat::ALL {
        let mine: Vec<&Summary> = rows.iter().filter(|r| r.strategy == s.name()).collect();
        if mine.is_empty() {
            continue;
        }
        let mut cal = buckets();
        for r in mine {
            for (a, b) in cal.iter_mut().zip(&r.calibration) {
                a.trials += b.trials;
                a.right += b.right;
            }
        }
        out.push(Pooled {
            strategy: s.name().to_string(),
            calibration: cal,
        });
    }
    out
}

/// The pooled calibration as text lines.
pub fn pooled_lines(p: &[Pooled]) -> Vec<String> {
    let mut out = vec![
        "calibration pooled over the cells (right / trials per reported confidence):".to_string(),
    ];
    for s in p {
        let cells: Vec<String> = s
            .calibration
            .iter()
            .map(|b| {
                let frac = if b.trials == 0 {
                    "-".to_string()
                } else {
                    format!("{:.3}", b.right as f64 / b.trials as f64)
                };
                format!("[{},{}) {frac} of {}", b.from, b.to, b.trials)
            })
            .collect();
        out.push(format!("  {:<9} {}", s.strategy, cells.join("  ")));
    }
    out
}

/// The JSON document of `kbisect simulate --json`.
#[derive(Serialize)]
pub struct Report<'a> {
    /// Every (range, cell, strategy).
    pub cells: &'a [Summary],
    /// Calibration pooled per strategy.
    pub calibration: Vec<Pooled>,
}
