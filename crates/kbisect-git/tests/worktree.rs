//! The worktree never disturbs the user's checkout, and keeps mtimes of unchanged files.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use kbisect_git::{CommitId, Repo, Worktree};
use kbisect_testutil::{TestRepo, conformance_repo};

fn id(s: &str) -> CommitId {
    s.parse().unwrap()
}

/// Everything of the user's repository that a bisection must leave alone.
#[derive(Debug, PartialEq)]
struct Snapshot {
    status: String,
    head: String,
    symbolic_head: String,
    refs: String,
    index_mtime: SystemTime,
    index_bytes: Vec<u8>,
    bisect_log: Option<Vec<u8>>,
    file: Vec<u8>,
}

fn snapshot(r: &TestRepo) -> Snapshot {
    let git_dir = r.path().join(".git");
    Snapshot {
        status: r.git(&["status", "--porcelain", "--untracked-files=all"]),
        head: r.git(&["rev-parse", "HEAD"]),
        symbolic_head: std::fs::read_to_string(git_dir.join("HEAD")).unwrap(),
        refs: r.git(&["for-each-ref"]),
        index_mtime: std::fs::metadata(git_dir.join("index"))
            .unwrap()
            .modified()
            .unwrap(),
        index_bytes: std::fs::read(git_dir.join("index")).unwrap(),
        bisect_log: std::fs::read(git_dir.join("BISECT_LOG")).ok(),
        file: std::fs::read(r.path().join("files/user_file")).unwrap(),
    }
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

#[test]
fn a_session_of_checkouts_leaves_the_user_checkout_alone() {
    let c = conformance_repo();
    let r = &c.repo;
    // The user is mid-way through their own work and their own bisection.
    r.git(&["bisect", "start", c.hash("905"), c.hash("400")]);
    std::fs::create_dir_all(r.path().join("files")).unwrap();
    std::fs::write(r.path().join("files/user_file"), "uncommitted\n").unwrap();
    std::fs::write(r.path().join("files/905"), "modified tracked file\n").unwrap();
    let before = snapshot(r);

    let repo = Repo::open(r.path()).unwrap();
    let wt_parent = tempfile::tempdir().unwrap();
    let wt_dir = wt_parent.path().join("wt");
    let wt = Worktree::create(&repo, &wt_dir).unwrap();
    for t in ["400", "650", "804", "852", "702", "905"] {
        wt.checkout(&id(c.hash(t))).unwrap();
        assert_eq!(wt.head().unwrap().as_str(), c.hash(t));
        // Reads in the user's repo between checkouts.
        repo.dag(&id(c.hash("905")), &[id(c.hash(t))]).unwrap();
        repo.release_tags_before(&id(c.hash(t))).unwrap();
        repo.is_dirty().unwrap();
        repo.commit(&id(c.hash(t))).unwrap();
    }
    // Reopening reuses the same worktree.
    let again = Worktree::create(&repo, &wt_dir).unwrap();
    assert_eq!(again.head().unwrap().as_str(), c.hash("905"));
    again.remove().unwrap();
    assert!(!wt_dir.exists());
    assert!(!r.path().join(".git/worktrees/wt").exists());

    assert_eq!(snapshot(r), before);
}

#[test]
fn main_checkout_is_never_reused_as_worktree() {
    let c = conformance_repo();
    let repo = Repo::open(c.repo.path()).unwrap();
    // The directory exists and is not empty: git refuses, nothing is reset.
    std::fs::write(c.repo.path().join("files/905"), "user edit\n").unwrap();
    assert!(Worktree::create(&repo, c.repo.path()).is_err());
    assert_eq!(
        std::fs::read_to_string(c.repo.path().join("files/905")).unwrap(),
        "user edit\n"
    );
}

#[test]
fn unchanged_files_keep_their_mtime_and_kept_dirs_survive() {
    let r = TestRepo::new();
    let a = r.commit_file("stable.c", "int stable;\n", "one");
    r.commit_file("changing.c", "int v1;\n", "two");
    let b = r.commit_file("changing.c", "int v2;\n", "three");
    let repo = Repo::open(r.path()).unwrap();
    let parent = tempfile::tempdir().unwrap();
    let wt = Worktree::create(&repo, &parent.path().join("wt")).unwrap();
    wt.checkout(&id(&a)).unwrap();

    let old = SystemTime::now() - Duration::from_secs(3600);
    let stable = wt.path().join("stable.c");
    std::fs::File::options()
        .write(true)
        .open(&stable)
        .unwrap()
        .set_modified(old)
        .unwrap();
    std::fs::create_dir_all(wt.path().join("build-out")).unwrap();
    std::fs::write(wt.path().join("build-out/vmlinux"), "elf").unwrap();
    std::fs::write(wt.path().join("stray.o"), "junk").unwrap();

    wt.checkout_keeping(&id(&b), &["/build-out/"]).unwrap();
    assert_eq!(wt.head().unwrap().as_str(), b);
    assert_eq!(mtime(&stable), old, "unchanged file was rewritten");
    assert_eq!(
        std::fs::read_to_string(wt.path().join("changing.c")).unwrap(),
        "int v2;\n"
    );
    assert!(wt.path().join("build-out/vmlinux").exists());
    assert!(!wt.path().join("stray.o").exists());

    // Local edits in the worktree are discarded.
    std::fs::write(wt.path().join("changing.c"), "garbage").unwrap();
    wt.checkout(&id(&a)).unwrap();
    assert!(!wt.path().join("changing.c").exists());
    assert!(!wt.path().join("build-out").exists());
    assert_eq!(mtime(&stable), old);

    let missing = id(&"3".repeat(40));
    assert!(matches!(
        wt.checkout(&missing),
        Err(kbisect_git::GitError::UnknownRevision { .. })
    ));
}

#[test]
fn a_deleted_worktree_dir_is_recreated() {
    let r = TestRepo::new();
    let h = r.commit("one");
    let repo = Repo::open(r.path()).unwrap();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("wt");
    let wt = Worktree::create(&repo, &dir).unwrap();
    drop(wt);
    std::fs::remove_dir_all(&dir).unwrap();
    let wt = Worktree::create(&repo, &dir).unwrap();
    assert_eq!(wt.head().unwrap().as_str(), h);
}

#[test]
fn fix_ups_are_cherry_picked_without_commit_and_discarded() {
    let r = TestRepo::new();
    let base = r.commit_file("src/a.c", "int a;\n", "base");
    r.git(&["checkout", "-q", "-b", "fixes"]);
    let fix = r.commit_file("src/a.c", "int a = 1;\n", "fix a");
    let adds = r.commit_file("src/new.c", "int n;\n", "add new.c");
    r.git(&["checkout", "-q", "master"]);
    let other = r.commit_file("src/a.c", "long a;\n", "conflicting change");
    let repo = Repo::open(r.path()).unwrap();
    let parent = tempfile::tempdir().unwrap();
    let wt = Worktree::create(&repo, &parent.path().join("wt")).unwrap();

    wt.checkout(&id(&base)).unwrap();
    assert!(wt.cherry_pick_no_commit(&id(&fix)).unwrap());
    assert!(wt.cherry_pick_no_commit(&id(&adds)).unwrap());
    assert_eq!(wt.head().unwrap().as_str(), base, "nothing committed");
    let read = |p: &str| std::fs::read_to_string(wt.path().join(p)).ok();
    assert_eq!(read("src/a.c").as_deref(), Some("int a = 1;\n"));
    assert_eq!(read("src/new.c").as_deref(), Some("int n;\n"));
    std::fs::write(wt.path().join("build.log"), "kept").unwrap();
    wt.discard_changes().unwrap();
    assert_eq!(read("src/a.c").as_deref(), Some("int a;\n"));
    assert_eq!(read("src/new.c"), None, "an added file goes too");
    assert_eq!(read("build.log").as_deref(), Some("kept"));

    // A fix-up that conflicts leaves the checkout as it was.
    wt.checkout(&id(&other)).unwrap();
    assert!(!wt.cherry_pick_no_commit(&id(&fix)).unwrap());
    assert_eq!(read("src/a.c").as_deref(), Some("long a;\n"));
    let status = r.git(&["-C", wt.path().to_str().unwrap(), "status", "--porcelain"]);
    assert_eq!(status.trim(), "");
    assert!(matches!(
        wt.cherry_pick_no_commit(&id(&"4".repeat(40))),
        Err(kbisect_git::GitError::UnknownRevision { .. })
    ));
    // The user's checkout saw none of it.
    assert_eq!(r.head(), other);
}
