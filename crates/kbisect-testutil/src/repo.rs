//! `TestRepo`: a throw-away git repository driven by the git CLI.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// First commit date: 2020-09-13 12:26:40 UTC. Later dates advance from here.
const BASE_TIME: u64 = 1_600_000_000;

/// A git repository in a temporary directory, removed on drop.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    /// Seconds added to `BASE_TIME` for the next git call.
    clock: AtomicU64,
}

impl Default for TestRepo {
    fn default() -> Self {
        TestRepo::new()
    }
}

impl TestRepo {
    /// `git init -b master` with a local identity and no signing.
    pub fn new() -> TestRepo {
        let dir = tempfile::Builder::new()
            .prefix("kbisect-test-repo-")
            .tempdir()
            .expect("create temp dir");
        let r = TestRepo {
            dir,
            clock: AtomicU64::new(0),
        };
        r.git(&["init", "-q", "-b", "master"]);
        for (k, v) in [
            ("user.name", "Test Author"),
            ("user.email", "test@example.com"),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
            ("core.autocrlf", "false"),
            ("gc.auto", "0"),
        ] {
            r.git(&["config", k, v]);
        }
        r
    }

    /// Wraps an existing directory (e.g. a copy of a cached fixture).
    pub(crate) fn from_dir(dir: tempfile::TempDir, clock: u64) -> TestRepo {
        TestRepo {
            dir,
            clock: AtomicU64::new(clock),
        }
    }

    pub(crate) fn clock(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository; panics with stderr on failure; returns trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let t = self.clock.fetch_add(60, Ordering::SeqCst);
        let date = format!("@{} +0000", BASE_TIME + t);
        let mut cmd = Command::new("git");
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("GIT_") {
                cmd.env_remove(k);
            }
        }
        let out = cmd
            .current_dir(self.path())
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("LC_ALL", "C")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed in {}: {}\n{}",
            self.path().display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Commits a change to a file of its own (named after the title, so
    /// branches never conflict when merged); returns the new hash.
    pub fn commit(&self, title: &str) -> String {
        let name: String = title
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let content = format!("{title}\n{}\n", self.clock.load(Ordering::SeqCst));
        self.commit_file(&format!("files/{name}"), &content, title)
    }

    /// Writes `path` (creating directories), commits it with `message`; returns the hash.
    pub fn commit_file(&self, path: &str, content: &str, message: &str) -> String {
        let full = self.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(&full, content).expect("write file");
        self.git(&["add", "--", path]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    /// A lightweight tag on HEAD.
    pub fn tag(&self, name: &str) {
        self.git(&["tag", name]);
    }

    /// An annotated tag on HEAD.
    pub fn tag_annotated(&self, name: &str) {
        self.git(&["tag", "-a", "-m", name, name]);
    }

    pub fn checkout(&self, rev: &str) {
        self.git(&["checkout", "-q", rev]);
    }

    /// `git merge --no-ff -m message rev`; returns the merge commit.
    pub fn merge_no_ff(&self, rev: &str, message: &str) -> String {
        self.git(&["merge", "-q", "--no-ff", "-m", message, rev]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }
}
