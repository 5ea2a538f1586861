//! Benchmark: the bayes strategy's time to choose the next revision(s) on a
//! kernel-sized range.
//!
//! Takes v2.40.0..v2.55.0 of the git project's history
//! (`shared/dags/git-history.dag.gz`, 11,802 commits, 3,216 merges, 1,297
//! docs-only), plants culprits, and drives the search's state machine
//! (`Machine::next_action`, the posterior update and the choice of a round's
//! builds and runs) with simulated outcomes, timing every call; git
//! bisect's own `DagBisect::next` on the same range is timed side by side.
//! Prints a markdown table.
//! Run: `cargo bench -p kbisect-core --bench bayes_choose [-- TRIALS]`.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use kbisect_core::dag::{DagBisect, Step};
use kbisect_core::strategy::bayes::{
    Action, BayesConfig, BuildResult, Machine, RangeDag, Rev, RunObs,
};
use kbisect_git::{CommitId, Dag};

fn shared() -> Option<PathBuf> {
    if let Ok(s) = std::env::var("KBISECT_SHARED") {
        return Some(PathBuf::from(s));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    p.exists().then_some(p)
}

/// Parents, docs-only flags and tags of the DAG file.
fn load(path: &PathBuf) -> (Vec<Vec<u32>>, Vec<bool>, HashMap<String, u32>) {
    let out = kbisect_proc::Cmd::new("gzip")
        .arg("-dc")
        .arg(path)
        .output_cap(1 << 30)
        .run_checked()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (mut parents, mut docs) = (Vec::new(), Vec::new());
    let mut tags = HashMap::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("c") => {
                f.next();
                let rest: Vec<&str> = f.collect();
                let cut = rest.iter().position(|x| *x == ";").unwrap_or(rest.len());
                parents.push(rest[..cut].iter().map(|x| x.parse().unwrap()).collect());
                docs.push(rest[cut..].contains(&"d"));
            }
            Some("t") => {
                let name = f.next().unwrap().to_string();
                tags.insert(name, f.next().unwrap().parse().unwrap());
            }
            _ => {}
        }
    }
    (parents, docs, tags)
}

fn reach(parents: &[Vec<u32>], from: u32) -> Vec<bool> {
    let mut seen = vec![false; parents.len()];
    let mut stack = vec![from];
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut seen[i as usize], true) {
            stack.extend(&parents[i as usize]);
        }
    }
    seen
}

/// A tiny deterministic generator for the simulated outcomes.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn pct(v: &[f64], q: f64) -> f64 {
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let Some(shared) = shared() else {
        println!("bayes_choose: skipped (no shared/dags)");
        return;
    };
    let trials: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    let (parents, docs, tags) = load(&shared.join("dags/git-history.dag.gz"));
    let (good, bad) = (tags["v2.40.0"], tags["v2.55.0"]);
    let (ra, rb) = (reach(&parents, good), reach(&parents, bad));
    let global: Vec<u32> = (0..parents.len() as u32)
        .filter(|&i| rb[i as usize] && !ra[i as usize])
        .collect();
    let mut local = vec![u32::MAX; parents.len()];
    for (k, &g) in global.iter().enumerate() {
        local[g as usize] = k as u32;
    }
    let rp: Vec<Vec<u32>> = global
        .iter()
        .map(|&g| {
            parents[g as usize]
                .iter()
                .filter(|&&p| local[p as usize] != u32::MAX)
                .map(|&p| local[p as usize])
                .collect()
        })
        .collect();
    let n = rp.len();
    let mut dag = RangeDag::new(
        rp.clone(),
        global.iter().map(|&g| docs[g as usize]).collect(),
    )
    .unwrap();
    dag.has_outside_parent = rp.iter().map(|p| p.is_empty()).collect();
    let head = local[bad as usize];
    // git bisect's choice on the same range, side by side.
    let id = |i: usize| -> CommitId { format!("{i:040x}").parse().unwrap() };
    let gdag = Dag {
        commits: (0..n).rev().map(id).collect(),
        parents: (0..n)
            .rev()
            .map(|i| rp[i].iter().map(|&p| (n - 1 - p as usize) as u32).collect())
            .collect(),
    };
    let b = DagBisect::new(gdag, &id(n - 1)).unwrap();
    let mut git_first: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            assert!(matches!(b.next(), Step::Test { .. }));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    git_first.sort_by(f64::total_cmp);
    println!(
        "bayes: time per choice (Machine::next_action) on v2.40.0..v2.55.0, {n} commits, {trials} bisections per row, one thread"
    );
    println!();
    println!(
        "| p | q | calls | mean ms | median ms | p99 ms | max ms | first search round ms | git bisect next (median of 7) ms | mean / git |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (p, q) in [(1.0, 0.0), (0.4, 0.02), (0.2, 0.0)] {
        let mut times: Vec<f64> = Vec::new();
        let mut first: Vec<f64> = Vec::new();
        for t in 0..trials {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((t as u64 + 1) * 7919));
            let culprit = loop {
                let c = (rng.unit() * n as f64) as usize;
                if !dag.same_binary_as_parent[c] {
                    break c as u32;
                }
            };
            let mut contains = vec![false; n];
            contains[culprit as usize] = true;
            for i in culprit as usize + 1..n {
                contains[i] = rp[i].iter().any(|&x| contains[x as usize]);
            }
            let mut m = Machine::new(dag.clone(), head, BayesConfig::default(), false, true);
            loop {
                let t0 = Instant::now();
                let a = m.next_action();
                let ms = t0.elapsed().as_secs_f64() * 1e3;
                // The first round of the search: the widest pass (one
                // class holds every candidate).
                if first.len() < t + 1
                    && let Action::Run(jobs) = &a
                    && jobs.iter().any(|j| j.build && j.rev != Rev::Commit(head))
                {
                    first.push(ms);
                }
                times.push(ms);
                match a {
                    Action::Run(jobs) => {
                        for j in jobs {
                            let inside = match j.rev {
                                Rev::Commit(c) => contains[c as usize],
                                _ => false,
                            };
                            if j.build {
                                let sig = format!("{:?}", j.rev);
                                m.built(
                                    j.rev,
                                    BuildResult::Built {
                                        signature: Some(sig),
                                    },
                                );
                            }
                            let obs: Vec<RunObs> = (0..j.runs)
                                .map(|_| {
                                    if (inside && rng.unit() < p) || rng.unit() < q {
                                        RunObs::Match
                                    } else {
                                        RunObs::Ok
                                    }
                                })
                                .collect();
                            m.ran(j.rev, &obs);
                        }
                    }
                    Action::Describe(c) => m.describe(c, false),
                    Action::Done(_) => break,
                }
            }
        }
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        let git = pct(&git_first, 0.5);
        println!(
            "| {p} | {q} | {} | {mean:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {git:.2} | {:.1} |",
            sorted.len(),
            pct(&sorted, 0.5),
            pct(&sorted, 0.99),
            sorted[sorted.len() - 1],
            first.iter().sum::<f64>() / first.len().max(1) as f64,
            mean / git,
        );
    }
}
