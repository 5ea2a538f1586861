//! Commit metadata, titles, changed files and diffstats against real git.
#![allow(clippy::unwrap_used)]

use kbisect_git::{CommitId, GitError, Repo};
use kbisect_testutil::{TestRepo, conformance_repo};

fn id(s: &str) -> CommitId {
    s.parse().unwrap()
}

#[test]
fn commit_metadata_and_trailers() {
    let r = TestRepo::new();
    let root = r.commit("root");
    let msg = "net: fix a use-after-free\n\nLonger explanation\nover two lines.\n\n\
               Fixes: 123456789abc (\"net: add it\")\n\
               Reported-by: syzbot+abc@syzkaller.appspotmail.com\n\
               Signed-off-by: A Dev <a@dev.org>\n\
               Reviewed-by: R Viewer\n <r@viewer.org>\n\
               Cc: stable@vger.kernel.org\n";
    let h = r.commit_file("net/core/sock.c", "int x;\n", msg);
    let repo = Repo::open(r.path()).unwrap();
    let c = repo.commit(&id(&h)).unwrap();
    assert_eq!(c.id.as_str(), h);
    assert_eq!(c.title, "net: fix a use-after-free");
    assert_eq!(c.author_name, "Test Author");
    assert_eq!(c.author_email, "test@example.com");
    assert_eq!(c.parents, vec![id(&root)]);
    assert!(!c.is_merge());
    assert_eq!(
        c.author_date,
        r.git(&["log", "-1", "--date=default", "--format=%ad", &h])
    );
    assert_eq!(
        c.author_time.to_string(),
        r.git(&["log", "-1", "--format=%at", &h])
    );
    assert_eq!(
        c.commit_time.to_string(),
        r.git(&["log", "-1", "--format=%ct", &h])
    );
    assert!(c.author_date.ends_with(" 2020 +0000"), "{}", c.author_date);
    assert_eq!(c.body, msg.trim_end());
    let trailers: Vec<(&str, &str)> = c
        .trailers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        trailers,
        [
            ("Fixes", "123456789abc (\"net: add it\")"),
            ("Reported-by", "syzbot+abc@syzkaller.appspotmail.com"),
            ("Signed-off-by", "A Dev <a@dev.org>"),
            ("Reviewed-by", "R Viewer <r@viewer.org>"),
            ("Cc", "stable@vger.kernel.org"),
        ]
    );

    let root_c = repo.commit(&id(&root)).unwrap();
    assert!(root_c.parents.is_empty());
    assert!(root_c.trailers.is_empty());

    let missing = id(&"1".repeat(40));
    assert!(matches!(
        repo.commit(&missing),
        Err(GitError::UnknownRevision { .. })
    ));
}

#[test]
fn merge_commit_has_both_parents() {
    let c = conformance_repo();
    let repo = Repo::open(c.repo.path()).unwrap();
    let m = repo.commit(&id(c.hash("804"))).unwrap();
    assert_eq!(m.title, "804");
    assert!(m.is_merge());
    assert_eq!(m.parents, vec![id(c.hash("803")), id(c.hash("792"))]);
}

#[test]
fn find_by_title_strips_prefixes() {
    let c = conformance_repo();
    let r = &c.repo;
    r.checkout("v8-branch");
    let up = r.commit("UPSTREAM: 603");
    let chromium = r.commit("CHROMIUM: local hack");
    r.checkout("master");
    let repo = Repo::open(r.path()).unwrap();

    assert_eq!(
        repo.find_by_title("master", "603").unwrap(),
        Some(id(c.hash("603")))
    );
    assert_eq!(
        repo.find_by_title("master", "FROMLIST: 603").unwrap(),
        Some(id(c.hash("603")))
    );
    // On the branch, the newest match wins: the prefixed copy.
    assert_eq!(
        repo.find_by_title("v8-branch", "603").unwrap(),
        Some(id(&up))
    );
    assert_eq!(
        repo.find_by_title("v8-branch", "local hack").unwrap(),
        Some(id(&chromium))
    );
    assert_eq!(repo.find_by_title("master", "local hack").unwrap(), None);
    assert_eq!(repo.find_by_title("master", "60").unwrap(), None);
    // Side-branch commits merged into master are found too.
    assert_eq!(
        repo.find_by_title("master", "791").unwrap(),
        Some(id(c.hash("791")))
    );
}

#[test]
fn find_by_title_looks_back_five_years_from_the_tip() {
    let r = TestRepo::new();
    r.commit("ancient");
    // Six years later (dates advance 60 s per git call in TestRepo).
    let date = format!("@{} +0000", 1_600_000_000u64 + 6 * 365 * 24 * 3600);
    let out = std::process::Command::new("git")
        .current_dir(r.path())
        .args(["commit", "-q", "--allow-empty", "-m", "recent"])
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repo = Repo::open(r.path()).unwrap();
    assert!(repo.find_by_title("master", "recent").unwrap().is_some());
    assert_eq!(repo.find_by_title("master", "ancient").unwrap(), None);
}

#[test]
fn changed_files_and_diffstat_match_git() {
    let r = TestRepo::new();
    let root = r.commit_file("a.txt", "1\n2\n3\n", "root");
    r.commit_file("dir/b.c", "int b;\n", "add b");
    std::fs::write(r.path().join("a.txt"), "1\nTWO\n3\n4\n").unwrap();
    std::fs::write(r.path().join("z z.txt"), "spaces\n").unwrap();
    r.git(&["add", "-A"]);
    r.git(&["rm", "-q", "dir/b.c"]);
    r.git(&["commit", "-q", "-m", "mixed"]);
    let mixed = r.head();
    r.git(&["checkout", "-q", "-b", "side", &root]);
    r.commit_file("side.txt", "s\n", "side");
    r.checkout("master");
    let merge = r.merge_no_ff("side", "merge side");
    let repo = Repo::open(r.path()).unwrap();

    assert_eq!(repo.changed_files(&id(&root)).unwrap(), ["a.txt"]);
    assert_eq!(
        repo.changed_files(&id(&mixed)).unwrap(),
        ["a.txt", "dir/b.c", "z z.txt"]
    );
    assert_eq!(repo.changed_files(&id(&merge)).unwrap(), ["side.txt"]);

    for h in [&root, &mixed, &merge] {
        let out = std::process::Command::new("git")
            .current_dir(r.path())
            .args(["show", "--stat", "--format=", h])
            .output()
            .unwrap();
        let want = String::from_utf8(out.stdout).unwrap();
        assert_eq!(repo.diffstat(&id(h)).unwrap(), want, "{h}");
    }
    let stat = repo.diffstat(&id(&mixed)).unwrap();
    assert!(stat.contains(" a.txt "), "{stat}");
    assert!(stat.contains("3 files changed"), "{stat}");
}

#[test]
fn is_dirty_sees_tracked_changes_only() {
    let r = TestRepo::new();
    r.commit_file("a", "1\n", "one");
    let repo = Repo::open(r.path()).unwrap();
    assert!(!repo.is_dirty().unwrap());
    std::fs::write(r.path().join("untracked"), "x").unwrap();
    assert!(!repo.is_dirty().unwrap());
    std::fs::write(r.path().join("a"), "2\n").unwrap();
    assert!(repo.is_dirty().unwrap());
}

#[test]
fn fetch_commit_from_another_repo() {
    let src = conformance_repo();
    let dst = TestRepo::new();
    dst.commit("unrelated");
    let repo = Repo::open(dst.path()).unwrap();
    let want = src.hash("851");
    assert!(!repo.has_commit(want).unwrap());
    let remote = src.repo.path().to_str().unwrap();
    assert!(repo.fetch_commit(remote, want).unwrap());
    assert!(repo.has_commit(want).unwrap());
    assert!(!repo.fetch_commit(remote, &"2".repeat(40)).unwrap());
    assert!(
        !repo
            .fetch_commit("/nonexistent/remote", src.hash("852"))
            .unwrap()
    );
}
