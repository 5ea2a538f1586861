//! `Repo::revert_onto` against real `git revert`: the same tree when the
//! revert applies, `None` when git's revert conflicts, the user's
//! checkout untouched, and the same commit id every time.
#![allow(clippy::unwrap_used)]

use kbisect_git::{CommitId, Repo};
use kbisect_testutil::TestRepo;

fn id(s: &str) -> CommitId {
    s.parse().unwrap()
}

/// What real git leaves: `git revert` of `commit` on a branch at `base`,
/// in a scratch clone; `None` when it conflicts.
fn git_revert_tree(r: &TestRepo, base: &str, commit: &str, merge: bool) -> Option<String> {
    let d = tempfile::tempdir().unwrap();
    let clone = d.path().join("c");
    let st = std::process::Command::new("git")
        .args(["clone", "-q"])
        .arg(r.path())
        .arg(&clone)
        .status()
        .unwrap();
    assert!(st.success());
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(&clone)
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .output()
            .unwrap()
    };
    assert!(git(&["checkout", "-q", base]).status.success());
    let mut args = vec!["revert", "--no-edit"];
    if merge {
        args.extend(["-m", "1"]);
    }
    args.push(commit);
    if !git(&args).status.success() {
        return None;
    }
    let out = git(&["rev-parse", "HEAD^{tree}"]);
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

#[test]
fn revert_onto_matches_git_revert() {
    let r = TestRepo::new();
    r.commit_file("a.c", "one\ntwo\nthree\n", "base");
    let culprit = r.commit_file("a.c", "one\nTWO\nthree\n", "the culprit");
    r.commit_file("b.c", "other\n", "an unrelated change");
    let later = r.commit_file(
        "a.c",
        "one\nTWO\nthree\nfour\n",
        "touches the same file elsewhere",
    );
    let conflicting = r.commit_file(
        "a.c",
        "one\nTwo!\nthree\nfour\n",
        "rewrites the culprit's line",
    );
    let before = r.git(&["status", "--porcelain"]);
    let head = r.head();
    let repo = Repo::open(r.path()).unwrap();

    let made = repo
        .revert_onto(&id(&later), &id(&culprit))
        .unwrap()
        .unwrap();
    let tree = r.git(&["rev-parse", &format!("{made}^{{tree}}")]);
    assert_eq!(
        Some(tree.trim().to_string()),
        git_revert_tree(&r, &later, &culprit, false)
    );
    assert_eq!(r.git(&["rev-parse", &format!("{made}^")]).trim(), later);
    let msg = r.git(&["show", "-s", "--format=%B", made.as_str()]);
    assert!(msg.starts_with("Revert \"the culprit\""), "{msg}");
    // The same commit again (a resumed bisection asks for the same id).
    assert_eq!(
        repo.revert_onto(&id(&later), &id(&culprit)).unwrap(),
        Some(made)
    );

    assert_eq!(git_revert_tree(&r, &conflicting, &culprit, false), None);
    assert_eq!(
        repo.revert_onto(&id(&conflicting), &id(&culprit)).unwrap(),
        None
    );
    // Nothing of the user's checkout moved.
    assert_eq!(r.git(&["status", "--porcelain"]), before);
    assert_eq!(r.head(), head);
}

#[test]
fn a_merge_is_reverted_against_its_first_parent() {
    let r = TestRepo::new();
    r.commit_file("a.c", "base\n", "base");
    let main = r.head();
    r.git(&["checkout", "-q", "-b", "side"]);
    r.commit_file("s.c", "side\n", "side work");
    r.checkout(&main);
    r.git(&["checkout", "-q", "-B", "master"]);
    r.commit_file("m.c", "main\n", "main work");
    let merge = r.merge_no_ff("side", "merge side");
    let on_top = r.commit_file("t.c", "top\n", "on top");
    let repo = Repo::open(r.path()).unwrap();
    let made = repo
        .revert_onto(&id(&on_top), &id(&merge))
        .unwrap()
        .unwrap();
    let tree = r.git(&["rev-parse", &format!("{made}^{{tree}}")]);
    assert_eq!(
        Some(tree.trim().to_string()),
        git_revert_tree(&r, &on_top, &merge, true)
    );
}

#[test]
fn a_root_commit_cannot_be_reverted_and_an_unknown_one_is_an_error() {
    let r = TestRepo::new();
    let root = r.commit_file("a.c", "x\n", "root");
    let repo = Repo::open(r.path()).unwrap();
    assert_eq!(repo.revert_onto(&id(&root), &id(&root)).unwrap(), None);
    let unknown = id("0123456789012345678901234567890123456789");
    assert!(repo.revert_onto(&id(&root), &unknown).is_err());
}
