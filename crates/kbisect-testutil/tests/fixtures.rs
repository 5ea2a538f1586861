#![allow(clippy::unwrap_used)]

use std::time::Instant;

use kbisect_testutil::{TestRepo, conformance_repo, conformance_repo_uncached, shared_dir};

fn titles(repo: &TestRepo, range: &str) -> Vec<String> {
    let out = repo.git(&["log", "--first-parent", "--reverse", "--format=%s", range]);
    out.lines().map(str::to_owned).collect()
}

#[test]
fn conformance_repo_matches_the_readme() {
    let c = conformance_repo();
    let r = &c.repo;
    assert_eq!(r.git(&["symbolic-ref", "--short", "HEAD"]), "master");
    assert_eq!(r.git(&["status", "--porcelain"]), "");

    let mut want: Vec<String> = Vec::new();
    for rv in 4..=9 {
        for i in 0..=5 {
            want.push((rv * 100 + i).to_string());
        }
    }
    assert_eq!(titles(r, "master"), want);

    let tags = r.git(&["tag", "--list"]);
    assert_eq!(tags, "v4.0\nv5.0\nv6.0\nv7.0\nv8.0\nv9.0");
    for rv in 4..=9 {
        let tagged = r.git(&["rev-parse", &format!("v{rv}.0^{{commit}}")]);
        assert_eq!(tagged, c.hash(&format!("{rv}00")), "v{rv}.0");
    }

    // Merges and their second parents.
    let parents = |t: &str| r.git(&["rev-parse", &format!("{}^@", c.hash(t))]);
    assert_eq!(
        parents("700"),
        format!("{}\n{}", c.hash("605"), c.hash("650"))
    );
    assert_eq!(
        parents("804"),
        format!("{}\n{}", c.hash("803"), c.hash("792"))
    );
    assert_eq!(parents("650"), c.hash("500"));
    assert_eq!(parents("790"), c.hash("700"));
    assert_eq!(parents("850"), c.hash("800"));
    assert_eq!(
        titles(r, "v8.0..v8-branch"),
        ["850", "851", "852"].map(String::from)
    );
    // Every non-merge commit changes a file.
    let empty = r.git(&[
        "log",
        "--all",
        "--no-merges",
        "--format=%s",
        "--diff-filter=d",
        "--stat",
    ]);
    assert!(!empty.is_empty());
    assert_eq!(c.by_title.len(), 36 + 1 + 3 + 3);
}

#[test]
fn conformance_repo_is_deterministic_and_copies_are_independent() {
    let a = conformance_repo();
    let start = Instant::now();
    let fresh = conformance_repo_uncached();
    let took = start.elapsed();
    assert!(took.as_secs() < 20, "building took {took:?}");
    assert_eq!(a.by_title, fresh.by_title);

    let b = conformance_repo();
    a.repo.commit("extra");
    assert_ne!(a.repo.head(), b.repo.head());
    assert_eq!(b.repo.head(), b.hash("905"));
}

#[test]
fn test_repo_basics() {
    let r = TestRepo::new();
    let c1 = r.commit("first");
    let c2 = r.commit_file(
        "dir/a.txt",
        "hello\n",
        "second\n\nbody\n\nSigned-off-by: X <x@y>",
    );
    assert_eq!(r.head(), c2);
    assert_eq!(r.git(&["rev-parse", "HEAD~"]), c1);
    assert_eq!(r.git(&["show", "HEAD:dir/a.txt"]), "hello");
    r.tag("v1.0");
    r.checkout(&c1);
    r.git(&["checkout", "-q", "-b", "topic"]);
    let t = r.commit("topic work");
    r.checkout("master");
    let m = r.merge_no_ff("topic", "Merge topic");
    assert_eq!(r.git(&["rev-parse", &format!("{m}^2")]), t);
    // Dates advance so log order is deterministic.
    let times = r.git(&["log", "--format=%ct", "master"]);
    let times: Vec<u64> = times.lines().map(|l| l.parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "{times:?}");
}

#[test]
fn shared_dir_is_found_when_present() {
    if let Some(d) = shared_dir() {
        assert!(d.join("conformance").is_dir());
    }
}
