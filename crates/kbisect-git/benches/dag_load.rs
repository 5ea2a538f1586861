//! `Repo::dag()` against plain `git rev-list --parents` on a kernel-sized range.
//!
//! The repository is generated once with `git fast-import` from the shape of
//! the git project's v2.40.0..v2.55.0 (`shared/dags/git-history.dag.gz`,
//! ~11,800 commits with topic-branch merges), or synthesised when that file
//! is absent, and kept under the target dir so reruns reuse it.
//!
//! Run: `cargo bench -p kbisect-git --bench dag_load`
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kbisect_git::{CommitId, Repo};

const RUNS: usize = 5;
const REPO_VERSION: u32 = 1;
const READY: &str = "kbisect-bench-ready";

/// A commit graph: `parents[i]` are indices of earlier commits.
struct Shape {
    parents: Vec<Vec<usize>>,
    source: String,
}

fn main() {
    let target = target_dir();
    let dir = target.join(format!("bench-repos/dag-load-v{REPO_VERSION}"));
    if !dir.join(READY).exists() {
        let shape = load_shape();
        let t = Instant::now();
        generate(&dir, &shape);
        std::fs::write(dir.join(READY), &shape.source).unwrap();
        println!("generated {} in {:?}", dir.display(), t.elapsed());
    }
    let source = std::fs::read_to_string(dir.join(READY)).unwrap();
    let repo = Repo::open(&dir).unwrap();
    let tip = repo.resolve("refs/heads/master").unwrap().unwrap();
    let good = repo.resolve("refs/tags/good").unwrap().unwrap();

    let mut ours = Vec::new();
    let mut plain = Vec::new();
    let mut commits = 0;
    let mut merges = 0;
    // Warm the page cache for both, then alternate so drift hits both alike.
    let _ = repo.dag(&tip, std::slice::from_ref(&good)).unwrap();
    let _ = rev_list(&dir, &tip, &good);
    for _ in 0..RUNS {
        let t = Instant::now();
        let dag = repo.dag(&tip, std::slice::from_ref(&good)).unwrap();
        ours.push(t.elapsed());
        commits = dag.len();
        merges = dag.parents.iter().filter(|p| p.len() > 1).count();
        let t = Instant::now();
        let n = rev_list(&dir, &tip, &good);
        plain.push(t.elapsed());
        assert_eq!(n, commits);
    }
    let (o, p) = (median(&mut ours), median(&mut plain));
    println!();
    println!("range: {commits} commits, {merges} merges in range ({source})");
    println!();
    println!("| measurement (median of {RUNS}) | time | min | max |");
    println!("|---|---:|---:|---:|");
    row("`git rev-list --parents bad ^good`", o_min_max(&plain, p));
    row("`Repo::dag(bad, [good])`", o_min_max(&ours, o));
    println!(
        "| ratio dag / rev-list | {:.2}x | | |",
        o.as_secs_f64() / p.as_secs_f64()
    );
}

fn o_min_max(v: &[Duration], med: Duration) -> (Duration, Duration, Duration) {
    (med, *v.iter().min().unwrap(), *v.iter().max().unwrap())
}

fn row(what: &str, (med, min, max): (Duration, Duration, Duration)) {
    println!("| {what} | {med:.1?} | {min:.1?} | {max:.1?} |");
}

fn median(v: &mut [Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s[s.len() / 2]
}

fn rev_list(dir: &Path, tip: &CommitId, good: &CommitId) -> usize {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["rev-list", "--parents", tip.as_str(), &format!("^{good}")])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout.iter().filter(|&&b| b == b'\n').count()
}

/// `<target>/release/deps/dag_load-*` → `<target>`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_owned()
}

fn load_shape() -> Shape {
    let file = kbisect_testutil::shared_dir().map(|d| d.join("dags/git-history.dag.gz"));
    match file.filter(|f| f.exists()) {
        Some(f) => shape_from_history(&f, "v2.40.0", "v2.55.0"),
        None => synthetic_shape(12_000),
    }
}

/// The range `from..to` of the recorded history; parents outside it become
/// commit 0, the single "good" base.
fn shape_from_history(file: &Path, from: &str, to: &str) -> Shape {
    let out = Command::new("gzip").arg("-dc").arg(file).output().unwrap();
    assert!(out.status.success(), "gzip failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut parents: Vec<Vec<usize>> = Vec::new();
    let mut tags = BTreeMap::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        match w.next() {
            Some("c") => {
                let i: usize = w.next().unwrap().parse().unwrap();
                assert_eq!(i, parents.len());
                parents.push(
                    w.take_while(|x| *x != ";")
                        .map(|x| x.parse().unwrap())
                        .collect(),
                );
            }
            Some("t") => {
                let name = w.next().unwrap().to_owned();
                tags.insert(name, w.next().unwrap().parse::<usize>().unwrap());
            }
            _ => {}
        }
    }
    let ancestors = |start: usize| {
        let mut seen = HashSet::new();
        let mut stack = vec![start];
        while let Some(c) = stack.pop() {
            if seen.insert(c) {
                stack.extend(&parents[c]);
            }
        }
        seen
    };
    let good = ancestors(tags[from]);
    let bad = ancestors(tags[to]);
    let mut range: Vec<usize> = bad.difference(&good).copied().collect();
    range.sort();
    let index: BTreeMap<usize, usize> =
        range.iter().enumerate().map(|(i, &c)| (c, i + 1)).collect();
    let mut shape = vec![Vec::new()];
    for c in &range {
        let mut ps: Vec<usize> = parents[*c]
            .iter()
            .map(|p| index.get(p).copied().unwrap_or(0))
            .collect();
        ps.dedup();
        shape.push(ps);
    }
    Shape {
        parents: shape,
        source: format!("shape of git's {from}..{to}"),
    }
}

/// Topic branches of 1-8 commits forking off the integration branch a few
/// merges back, merged with --no-ff: the maintainer workflow.
fn synthetic_shape(n: usize) -> Shape {
    let mut parents: Vec<Vec<usize>> = vec![Vec::new()];
    let mut mainline = vec![0usize];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    while parents.len() < n {
        let fork = mainline[mainline.len().saturating_sub(1 + rnd(10))];
        let mut prev = fork;
        for _ in 0..1 + rnd(8) {
            parents.push(vec![prev]);
            prev = parents.len() - 1;
        }
        let head = *mainline.last().unwrap();
        parents.push(vec![head, prev]);
        mainline.push(parents.len() - 1);
    }
    Shape {
        parents,
        source: format!("synthetic, {n} commits"),
    }
}

fn generate(dir: &Path, shape: &Shape) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::create_dir_all(dir).unwrap();
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .current_dir(dir)
            .args(args)
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
    };
    git(&["init", "-q", "--bare", "-b", "master"]);
    let mut stream = Vec::new();
    for (i, ps) in shape.parents.iter().enumerate() {
        let msg = format!("commit {i}\n");
        let content = format!("{i}\n");
        write!(
            stream,
            "commit refs/heads/gen\nmark :{}\ncommitter Bench <bench@example.com> {} +0000\ndata {}\n{msg}",
            i + 1,
            1_600_000_000 + i * 60,
            msg.len()
        )
        .unwrap();
        for (k, p) in ps.iter().enumerate() {
            let kw = if k == 0 { "from" } else { "merge" };
            writeln!(stream, "{kw} :{}", p + 1).unwrap();
        }
        write!(
            stream,
            "M 644 inline f/{}\ndata {}\n{content}\n",
            i % 509,
            content.len()
        )
        .unwrap();
    }
    let tip = shape.parents.len();
    write!(
        stream,
        "reset refs/heads/master\nfrom :{tip}\n\nreset refs/tags/good\nfrom :1\n\n"
    )
    .unwrap();
    let mut child = Command::new("git")
        .current_dir(dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&stream).unwrap();
    assert!(child.wait().unwrap().success(), "fast-import failed");
    git(&["update-ref", "-d", "refs/heads/gen"]);
}
