//! Fake programs scripted at the process boundary (as jj's tests script a
//! fake editor): shell scripts a test writes into a temp dir and hands to
//! kbisect as its build or test command, so the real process machinery
//! runs and nothing inside the engine is mocked.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::TestRepo;

/// A script to write: its file name and its text.
#[derive(Debug, Clone, Copy)]
pub struct FakeProgram<'a> {
    /// File name.
    pub name: &'a str,
    /// `#!/bin/sh` script text.
    pub script: &'a str,
}

/// Writes executable scripts into a fresh temp dir.
pub fn fake_programs(programs: &[FakeProgram<'_>]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for p in programs {
        let path = dir.path().join(p.name);
        std::fs::write(&path, p.script).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod script");
    }
    dir
}

/// A build that copies the tree's `state` file into `$KBISECT_OUT`.
/// `$MARKS` (if set) gets a file per build; `$BUILD_DELAY` slows it down.
pub const STATE_BUILD: &str = r#"#!/bin/sh
[ -n "$MARKS" ] && echo $$ > "$MARKS/build-$KBISECT_COMMIT"
[ -n "$BUILD_DELAY" ] && sleep "$BUILD_DELAY"
cp state "$KBISECT_OUT/state"
"#;

/// A reproducer that crashes when the built `state` says `bug`.
/// `$MARKS` (if set) gets a file per run; `$RUN_DELAY` slows it down.
pub const STATE_TEST: &str = r#"#!/bin/sh
[ -n "$MARKS" ] && touch "$MARKS/run-$KBISECT_COMMIT-$KBISECT_RUN"
[ -n "$RUN_DELAY" ] && sleep "$RUN_DELAY"
if grep -q bug "$KBISECT_OUT/state"; then
	echo "BUG: fixture crash in frob_state"
	exit 1
fi
echo fine
"#;

/// A generated repository whose `state` file says `bug` from one commit
/// on, with the fake build and test above.
pub struct Fixture {
    /// The repository.
    pub repo: TestRepo,
    /// Where `build.sh` and `repro.sh` are.
    pub scripts: tempfile::TempDir,
    /// The commit that plants the bug.
    pub culprit: String,
    /// The branch head.
    pub head: String,
}

impl Fixture {
    /// v1.0, then 11 commits (a merge among them); the 6th after the tag plants the bug.
    pub fn new() -> Fixture {
        let repo = TestRepo::new();
        repo.commit_file("state", "ok\n", "init");
        repo.tag("v1.0");
        for i in 0..3 {
            repo.commit(&format!("change {i}"));
        }
        repo.git(&["checkout", "-q", "-b", "topic"]);
        repo.commit("topic change");
        repo.git(&["checkout", "-q", "master"]);
        repo.merge_no_ff("topic", "Merge branch 'topic'");
        repo.commit("change 3");
        let culprit = repo.commit_file("state", "bug\n", "frob: plant the bug");
        for i in 4..8 {
            repo.commit(&format!("change {i}"));
        }
        let head = repo.head();
        let scripts = fake_programs(&[
            FakeProgram {
                name: "build.sh",
                script: STATE_BUILD,
            },
            FakeProgram {
                name: "repro.sh",
                script: STATE_TEST,
            },
        ]);
        Fixture {
            repo,
            scripts,
            culprit,
            head,
        }
    }

    /// `sh <path of script name>`.
    pub fn script(&self, name: &str) -> String {
        format!("sh {}", self.path(name).display())
    }

    /// The path of a script.
    pub fn path(&self, name: &str) -> PathBuf {
        self.scripts.path().join(name)
    }

    /// `kbisect run` flags for this fixture, without a job file.
    pub fn run_args(&self, workdir: &Path) -> Vec<String> {
        vec![
            "run".into(),
            "--repo".into(),
            self.repo.path().display().to_string(),
            "--bad".into(),
            "master".into(),
            "--good".into(),
            "v1.0".into(),
            "--build".into(),
            self.script("build.sh"),
            "--test".into(),
            self.script("repro.sh"),
            "--workdir".into(),
            workdir.display().to_string(),
            "--parallel".into(),
            "2".into(),
            "--no-progress".into(),
        ]
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}
