//! `Repo`'s answers on the conformance repository, compared with real git's.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use kbisect_git::{CommitId, Repo};
use kbisect_testutil::{ConformanceRepo, conformance_repo};

fn id(s: &str) -> CommitId {
    s.parse().unwrap()
}

fn open(c: &ConformanceRepo) -> Repo {
    Repo::open(c.repo.path()).unwrap()
}

/// A spread of commits: all of master's releases, both merges, side branches.
const PICKS: [&str; 14] = [
    "400", "405", "500", "503", "600", "605", "650", "700", "702", "790", "792", "804", "852",
    "905",
];

#[test]
fn dag_matches_rev_list() {
    let c = conformance_repo();
    let repo = open(&c);
    let ranges: [(&str, &[&str]); 6] = [
        ("905", &["400"]),
        ("804", &["700"]),
        ("804", &["650", "702"]),
        ("852", &["500"]),
        ("905", &[]),
        ("700", &["700"]),
    ];
    for (bad, goods) in ranges {
        let mut args = vec![
            "rev-list".to_owned(),
            "--parents".to_owned(),
            c.hash(bad).to_owned(),
        ];
        args.extend(goods.iter().map(|g| format!("^{}", c.hash(g))));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let expect: Vec<Vec<String>> = c
            .repo
            .git(&args)
            .lines()
            .map(|l| l.split(' ').map(str::to_owned).collect())
            .collect();
        let goods_ids: Vec<CommitId> = goods.iter().map(|g| id(c.hash(g))).collect();
        let dag = repo.dag(&id(c.hash(bad)), &goods_ids).unwrap();
        assert_eq!(dag.len(), expect.len(), "{bad} {goods:?}");
        let in_range: BTreeSet<&str> = expect.iter().map(|l| l[0].as_str()).collect();
        for (i, line) in expect.iter().enumerate() {
            assert_eq!(dag.commits[i].as_str(), line[0]);
            let parents: Vec<&str> = dag.parents[i]
                .iter()
                .map(|&p| dag.commits[p as usize].as_str())
                .collect();
            let want: Vec<&str> = line[1..]
                .iter()
                .map(String::as_str)
                .filter(|p| in_range.contains(p))
                .collect();
            assert_eq!(parents, want, "parents of {}", line[0]);
        }
        if !expect.is_empty() {
            assert_eq!(dag.index_of(&id(c.hash(bad))), Some(0));
        }
    }
    // The 804 merge keeps both in-range parents.
    let dag = repo.dag(&id(c.hash("905")), &[id(c.hash("400"))]).unwrap();
    let m = dag.index_of(&id(c.hash("804"))).unwrap();
    assert_eq!(dag.parents[m as usize].len(), 2);
}

#[test]
fn is_ancestor_matches_merge_base() {
    let c = conformance_repo();
    let repo = open(&c);
    for a in PICKS {
        for b in PICKS {
            let st = std::process::Command::new("git")
                .current_dir(c.repo.path())
                .args(["merge-base", "--is-ancestor", c.hash(a), c.hash(b)])
                .status()
                .unwrap();
            let want = st.code() == Some(0);
            assert_eq!(
                repo.is_ancestor(&id(c.hash(a)), &id(c.hash(b))).unwrap(),
                want,
                "{a} ancestor of {b}"
            );
        }
    }
}

#[test]
fn merge_bases_match_git() {
    let c = conformance_repo();
    let repo = open(&c);
    // Criss-cross merge so that some pair has two merge bases.
    let r = &c.repo;
    r.checkout(c.hash("901"));
    r.git(&["checkout", "-q", "-b", "x1"]);
    r.commit("x1");
    r.checkout(c.hash("902"));
    r.git(&["checkout", "-q", "-b", "x2"]);
    r.commit("x2");
    r.checkout("x1");
    let m1 = r.merge_no_ff("x2", "m1");
    r.checkout("x2");
    let m2 = r.merge_no_ff(&format!("{m1}^1"), "m2");
    r.checkout("master");
    let mut pairs: Vec<(String, String)> = Vec::new();
    for a in PICKS {
        for b in ["650", "792", "852", "905", "603"] {
            pairs.push((c.hash(a).to_owned(), c.hash(b).to_owned()));
        }
    }
    pairs.push((m1.clone(), m2.clone()));
    let mut saw_two = false;
    for (a, b) in pairs {
        let mut want: Vec<String> = r
            .git(&["merge-base", "--all", &a, &b])
            .lines()
            .map(str::to_owned)
            .collect();
        want.sort();
        saw_two |= want.len() == 2;
        let got: Vec<String> = repo
            .merge_bases(&id(&a), &id(&b))
            .unwrap()
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(got, want, "{a} {b}");
    }
    assert!(saw_two, "the criss-cross pair should have two merge bases");
}

#[test]
fn release_tags_before_matches_tag_merged() {
    let c = conformance_repo();
    let repo = open(&c);
    c.repo
        .git(&["tag", "-a", "-m", "annotated", "v9.1-rc1", c.hash("903")]);
    c.repo.git(&["tag", "not-a-release", c.hash("903")]);
    let all = repo.release_tags().unwrap();
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["v9.1-rc1", "v9.0", "v8.0", "v7.0", "v6.0", "v5.0", "v4.0"]
    );
    assert_eq!(all[0].commit.as_str(), c.hash("903"));
    assert!(all[0].version.is_prerelease());

    for t in PICKS {
        let h = c.hash(t);
        let merged = c.repo.git(&["tag", "--merged", h]);
        let on = c.repo.git(&["tag", "--points-at", h]);
        let on: BTreeSet<&str> = on.lines().collect();
        let mut want: Vec<&str> = merged
            .lines()
            .filter(|n| kbisect_git::parse_release_tag(n).is_some() && !on.contains(n))
            .collect();
        want.sort_by_key(|n| std::cmp::Reverse(kbisect_git::parse_release_tag(n).unwrap()));
        let got = repo.release_tags_before(&id(h)).unwrap();
        let got: Vec<&str> = got.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(got, want, "before {t}");
        let tags_on = repo.tags_on(&id(h)).unwrap();
        assert_eq!(
            tags_on,
            on.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        );
    }
    // 650 is based on v5.0; 700 merges it but is itself tagged v7.0.
    let before: Vec<String> = repo
        .release_tags_before(&id(c.hash("700")))
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(before, ["v6.0", "v5.0", "v4.0"]);
}

#[test]
fn resolve_branch_head_and_has_commit() {
    let c = conformance_repo();
    let repo = open(&c);
    assert_eq!(
        repo.resolve("master").unwrap().unwrap().as_str(),
        c.hash("905")
    );
    assert_eq!(
        repo.resolve("v7.0").unwrap().unwrap().as_str(),
        c.hash("700")
    );
    assert_eq!(
        repo.resolve("v7.0~1").unwrap().unwrap().as_str(),
        c.hash("605")
    );
    assert_eq!(repo.resolve("no-such-branch").unwrap(), None);
    assert_eq!(repo.resolve(&"0".repeat(40)).unwrap(), None);
    assert_eq!(repo.resolve("--help").unwrap(), None);
    assert_eq!(
        repo.branch_head("v8-branch").unwrap().as_str(),
        c.hash("852")
    );
    assert_eq!(repo.branch_head("v6.0").unwrap().as_str(), c.hash("600"));
    assert!(matches!(
        repo.branch_head("nope"),
        Err(kbisect_git::GitError::UnknownRevision { .. })
    ));
    // A remote-tracking branch is found when there is no local one.
    c.repo.git(&[
        "update-ref",
        "refs/remotes/origin/linux-next",
        c.hash("803"),
    ]);
    assert_eq!(
        repo.branch_head("linux-next").unwrap().as_str(),
        c.hash("803")
    );

    assert!(repo.has_commit(c.hash("650")).unwrap());
    assert!(repo.has_commit(&c.hash("650")[..12]).unwrap());
    assert!(!repo.has_commit(&"1".repeat(40)).unwrap());
    assert!(!repo.has_commit("master").unwrap());
    let tree = c.repo.git(&["rev-parse", "HEAD^{tree}"]);
    assert!(!repo.has_commit(&tree).unwrap());
}

#[test]
fn open_rejects_non_repos() {
    let dir = tempfile::tempdir().unwrap();
    let err = Repo::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, kbisect_git::GitError::NotARepo { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("not a git repository"));
    let err = Repo::open(&dir.path().join("missing")).unwrap_err();
    assert!(
        matches!(err, kbisect_git::GitError::NotARepo { .. }),
        "{err:?}"
    );
}
