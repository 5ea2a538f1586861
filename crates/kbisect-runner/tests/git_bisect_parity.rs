//! The DAG bisection against real `git bisect` as an oracle: on ranges of
//! the conformance repository (with merges), for every possible culprit,
//! kbisect must test the same revisions in the same order, print the same
//! "revisions left / steps" numbers, and name the same first bad commit.

#![allow(clippy::unwrap_used)]

use kbisect_core::dag::{DagBisect, Step};
use kbisect_core::{Vcs, Verdict};
use kbisect_git::{CommitId, Repo};
use kbisect_runner::GitVcs;
use kbisect_testutil::{TestRepo, conformance_repo};

/// (tested commit, left, steps) per step, then the first bad commit.
type Trace = (Vec<(String, usize, usize)>, String);

fn ours(vcs: &GitVcs, bad: &CommitId, good: &CommitId, culprit: &CommitId) -> Trace {
    let mut b = DagBisect::new(vcs.dag(bad, std::slice::from_ref(good)).unwrap(), bad).unwrap();
    let mut steps = Vec::new();
    loop {
        match b.next() {
            Step::Test {
                commit,
                left,
                steps: k,
            } => {
                steps.push((commit.to_string(), left, k));
                let v = if vcs.is_ancestor(culprit, &commit).unwrap() {
                    Verdict::Bad
                } else {
                    Verdict::Good
                };
                b.mark(&commit, v).unwrap();
            }
            Step::Found(c) => return (steps, c.to_string()),
            Step::OnlySkipped(_) => panic!("no skips here"),
        }
    }
}

/// Parses `Bisecting: N revision(s) left to test after this (roughly K step(s))`.
fn bisecting_line(out: &str) -> Option<(usize, usize)> {
    let line = out.lines().find(|l| l.starts_with("Bisecting: "))?;
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    Some((nums[0], nums[1]))
}

fn git_oracle(repo: &TestRepo, vcs: &GitVcs, bad: &str, good: &str, culprit: &CommitId) -> Trace {
    let mut steps = Vec::new();
    let mut out = repo.git(&["bisect", "start", bad, good]);
    let found = loop {
        if let Some(line) = out
            .lines()
            .find(|l| l.ends_with(" is the first bad commit"))
        {
            break line.split_whitespace().next().unwrap().to_string();
        }
        let (left, k) = bisecting_line(&out).unwrap_or_else(|| panic!("unexpected: {out}"));
        let head = repo.git(&["rev-parse", "HEAD"]);
        steps.push((head.clone(), left, k));
        let id: CommitId = head.parse().unwrap();
        let term = if vcs.is_ancestor(culprit, &id).unwrap() {
            "bad"
        } else {
            "good"
        };
        out = repo.git(&["bisect", term]);
    };
    repo.git(&["bisect", "reset"]);
    (steps, found)
}

#[test]
fn same_choices_as_git_bisect() {
    let fx = conformance_repo();
    let repo = Repo::open(fx.repo.path()).unwrap();
    let vcs = GitVcs::new(repo, "master");
    let mut compared = 0;
    for (bad_t, good_t) in [
        ("700", "500"),
        ("905", "700"),
        ("805", "600"),
        ("905", "400"),
    ] {
        let bad: CommitId = fx.hash(bad_t).parse().unwrap();
        let good: CommitId = fx.hash(good_t).parse().unwrap();
        let dag = vcs.dag(&bad, std::slice::from_ref(&good)).unwrap();
        for culprit in &dag.commits {
            let a = ours(&vcs, &bad, &good, culprit);
            let b = git_oracle(&fx.repo, &vcs, fx.hash(bad_t), fx.hash(good_t), culprit);
            assert_eq!(a, b, "range {bad_t}..{good_t}, culprit {culprit}");
            compared += 1;
        }
    }
    assert!(compared > 50);
}
