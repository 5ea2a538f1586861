//! A quick table on one range: `cargo run --release -p kbisect-sim --example quick -- RANGE TRIALS P,..`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]
use kbisect_sim::{Cell, History, Prepared, SimConfig, Strat, Summary};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    // `$KBISECT_SHARED`, else `../shared` beside the repository.
    let shared = std::env::var_os("KBISECT_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
        });
    let h = History::load(&shared.join("dags/git-history.dag.gz")).unwrap();
    let range = h.range(&a[1]).unwrap();
    let trials: usize = a[2].parse().unwrap();
    let ps: Vec<f64> = a[3].split(',').map(|x| x.parse().unwrap()).collect();
    let q: f64 = a.get(4).map_or(0.0, |x| x.parse().unwrap());
    let s: f64 = a.get(5).map_or(0.0, |x| x.parse().unwrap());
    let strats: Vec<Strat> = a
        .get(6)
        .map_or("plain,syzkaller,bayes", |x| x.as_str())
        .split(',')
        .map(|x| Strat::parse(x).unwrap())
        .collect();
    // Knobs for experiments: BAYES_VERIFY=0.99 BAYES_P1=0.7 ...
    let mut cfg = kbisect_core::strategy::bayes::BayesConfig::default();
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f64>().ok());
    if let Some(v) = env("BAYES_VERIFY") {
        cfg.verify_confidence = v;
    }
    if let Some(v) = env("BAYES_VERIFY_FLAKY") {
        cfg.verify_confidence_flaky = v;
    }
    if let Some(v) = env("BAYES_FLAKY_P") {
        cfg.flaky_p = v;
    }
    if let Some(v) = env("BAYES_PMAX") {
        cfg.verify_p_max = v;
    }
    if let Some(v) = env("BAYES_PQ") {
        cfg.verify_p_quantile = v;
    }
    let prep = Prepared::new(&h, range)
        .with_bayes(cfg, kbisect_core::strategy::bayes::RangeRules::default());
    let mut sim = SimConfig::default();
    if let Some(c) = std::env::var("SIM_CONFIDENCE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        sim.confidence = c;
    }
    println!("{}", Summary::header());
    for &p in &ps {
        for &st in &strats {
            let t0 = std::time::Instant::now();
            let cell = Cell { p, q, s };
            let t = prep.cell(cell, st, trials, 1, &sim, 2);
            let sum = Summary::new(&a[1], st, cell, &t);
            println!("{}   {:.1}s", sum.line(), t0.elapsed().as_secs_f64());
        }
    }
}
