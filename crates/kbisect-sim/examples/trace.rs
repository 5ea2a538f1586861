//! One trial's events: `trace RANGE P Q S TRIAL [STRATEGY]`, or the wrong
//! trials of the first N with `trace RANGE P Q S -N`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]
use kbisect_sim::{Cell, History, Prepared, SimConfig, Strat};

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
    let cell = Cell {
        p: a[2].parse().unwrap(),
        q: a[3].parse().unwrap(),
        s: a[4].parse().unwrap(),
    };
    let st = Strat::parse(a.get(6).map_or("bayes", |s| s.as_str())).unwrap();
    let prep = Prepared::new(&h, range);
    let sim = SimConfig::default();
    let t: i64 = a[5].parse().unwrap();
    if t < 0 {
        for i in 0..(-t) as usize {
            let o = prep.trial(cell, st, i, 1, &sim);
            if !o.correct() {
                println!("trial {i}: culprit {} answer {:?}", o.culprit, o.answer);
            }
        }
        return;
    }
    let o = prep.trial_logged(cell, st, t as usize, 1, &sim, &mut |e| println!("{e:?}"));
    println!("{o:?}");
}
