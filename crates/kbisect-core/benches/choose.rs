//! Benchmark: choosing the next revision on a kernel-sized range.
//!
//! Takes the range v2.40.0..v2.55.0 of the git project's real history
//! (`shared/dags/git-history.dag.gz`, ~11,800 commits with merges, the size
//! and shape of a kernel range between two releases), and times
//! `DagBisect::next()` on the full range and through a whole bisection to a
//! planted culprit. Prints a markdown table. Run: `cargo bench -p kbisect-core --bench choose`.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kbisect_core::Verdict;
use kbisect_core::dag::{DagBisect, Step};
use kbisect_git::{CommitId, Dag};

fn shared() -> Option<PathBuf> {
    if let Ok(s) = std::env::var("KBISECT_SHARED") {
        return Some(PathBuf::from(s));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    p.exists().then_some(p)
}

fn id(i: u32) -> CommitId {
    format!("{i:040x}").parse().unwrap()
}

/// Parents of every commit, and tags, from the DAG file.
fn load(path: &PathBuf) -> (Vec<Vec<u32>>, HashMap<String, u32>) {
    let out = kbisect_proc::Cmd::new("gzip")
        .arg("-dc")
        .arg(path)
        .output_cap(1 << 30)
        .run_checked()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut parents: Vec<Vec<u32>> = Vec::new();
    let mut tags = HashMap::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("c") => {
                let i: usize = f.next().unwrap().parse().unwrap();
                let ps: Vec<u32> = f
                    .take_while(|x| *x != ";")
                    .map(|x| x.parse().unwrap())
                    .collect();
                if parents.len() <= i {
                    parents.resize(i + 1, Vec::new());
                }
                parents[i] = ps;
            }
            Some("t") => {
                let name = f.next().unwrap().to_string();
                tags.insert(name, f.next().unwrap().parse().unwrap());
            }
            _ => {}
        }
    }
    (parents, tags)
}

/// `bad ^good` as a Dag, newest first like rev-list.
fn range(parents: &[Vec<u32>], bad: u32, good: u32) -> Dag {
    let mut excluded = vec![false; parents.len()];
    let mut stack = vec![good];
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut excluded[i as usize], true) {
            stack.extend(&parents[i as usize]);
        }
    }
    let mut inside = vec![false; parents.len()];
    let mut stack = vec![bad];
    while let Some(i) = stack.pop() {
        let iu = i as usize;
        if !excluded[iu] && !std::mem::replace(&mut inside[iu], true) {
            stack.extend(&parents[iu]);
        }
    }
    let members: Vec<u32> = (0..parents.len() as u32)
        .rev()
        .filter(|i| inside[*i as usize])
        .collect();
    let index: HashMap<u32, u32> = members
        .iter()
        .enumerate()
        .map(|(k, v)| (*v, k as u32))
        .collect();
    Dag {
        commits: members.iter().map(|m| id(*m)).collect(),
        parents: members
            .iter()
            .map(|m| {
                parents[*m as usize]
                    .iter()
                    .filter_map(|p| index.get(p).copied())
                    .collect()
            })
            .collect(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let Some(shared) = shared() else {
        println!("choose: skipped (no shared/dags)");
        return;
    };
    let (parents, tags) = load(&shared.join("dags/git-history.dag.gz"));
    let (good, bad) = (tags["v2.40.0"], tags["v2.55.0"]);
    let dag = range(&parents, bad, good);
    let n = dag.commits.len();
    let merges = dag.parents.iter().filter(|p| p.len() > 1).count();
    let bis = DagBisect::new(dag.clone(), &id(bad)).unwrap();
    let first: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            let s = bis.next();
            let d = t.elapsed();
            assert!(matches!(s, Step::Test { .. }));
            d
        })
        .collect();
    // A whole bisection to a culprit planted in the middle of the range.
    let culprit_ix = n / 3;
    let culprit = dag.commits[culprit_ix].clone();
    let mut reach = vec![false; n];
    // Commits that contain the culprit are its descendants within the range.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (c, ps) in dag.parents.iter().enumerate() {
        for p in ps {
            children[*p as usize].push(c);
        }
    }
    let mut stack = vec![culprit_ix];
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut reach[i], true) {
            stack.extend(&children[i]);
        }
    }
    let mut b = DagBisect::new(dag.clone(), &id(bad)).unwrap();
    let mut steps = 0;
    let mut times = Vec::new();
    let found = loop {
        let t = Instant::now();
        let s = b.next();
        times.push(t.elapsed());
        match s {
            Step::Test { commit, .. } => {
                steps += 1;
                let ix = dag.commits.iter().position(|c| *c == commit).unwrap();
                let v = if reach[ix] {
                    Verdict::Bad
                } else {
                    Verdict::Good
                };
                b.mark(&commit, v).unwrap();
            }
            Step::Found(c) => break c,
            Step::OnlySkipped(_) => panic!("no skips"),
        }
    };
    assert_eq!(found, culprit);
    let worst = times.iter().max().copied().unwrap_or_default();
    println!(
        "| range | commits | merges | choose first (median of 7) | worst step | steps to culprit |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| v2.40.0..v2.55.0 | {n} | {merges} | {:.1} ms | {:.1} ms | {steps} |",
        median(first).as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
    );
}
