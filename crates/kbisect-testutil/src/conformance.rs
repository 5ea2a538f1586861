//! The repository of `conformance/README.md` ("The repository"), which every
//! conformance scenario bisects.
//!
//! Built once per machine into a template under the temp dir (hashes are
//! deterministic, so every build is identical), then copied for each caller:
//! a copy is much cheaper than ~150 git calls, and callers may modify theirs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::repo::TestRepo;

/// Bump when `build` changes, so stale templates are not reused.
const TEMPLATE_VERSION: u32 = 1;
/// Written last, inside `.git`, so only complete templates are ever seen.
const MANIFEST: &str = ".git/kbisect-conformance-manifest";

pub struct ConformanceRepo {
    pub repo: TestRepo,
    /// Commit title → full hash, e.g. `"602"` → hash; includes 650, 790..792, 850..852.
    pub by_title: BTreeMap<String, String>,
}

impl ConformanceRepo {
    /// Hash of the commit titled `title`; panics when there is none.
    pub fn hash(&self, title: &str) -> &str {
        self.by_title
            .get(title)
            .unwrap_or_else(|| panic!("no commit titled {title:?}"))
    }
}

struct Template {
    dir: PathBuf,
    by_title: BTreeMap<String, String>,
    clock: u64,
}

/// A fresh copy of the conformance repository, checked out on `master`.
pub fn conformance_repo() -> ConformanceRepo {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    let t = TEMPLATE.get_or_init(template);
    let dir = tempfile::Builder::new()
        .prefix("kbisect-conformance-")
        .tempdir()
        .expect("create temp dir");
    let out = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", t.dir.display()))
        .arg(dir.path())
        .output()
        .expect("run cp");
    assert!(
        out.status.success(),
        "cp failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ConformanceRepo {
        repo: TestRepo::from_dir(dir, t.clock),
        by_title: t.by_title.clone(),
    }
}

/// Builds the repository fresh, without the template cache.
pub fn conformance_repo_uncached() -> ConformanceRepo {
    build()
}

fn template() -> Template {
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let dir = std::env::temp_dir().join(format!(
        "kbisect-conformance-template-v{TEMPLATE_VERSION}-{user}"
    ));
    if !dir.join(MANIFEST).exists() {
        let c = build();
        let mut manifest = format!("{}\n", c.repo.clock());
        for (title, hash) in &c.by_title {
            manifest.push_str(&format!("{title} {hash}\n"));
        }
        std::fs::write(c.repo.path().join(MANIFEST), manifest).expect("write manifest");
        let built = c.repo.dir.keep();
        // Another process may have won the race; its template is identical.
        if std::fs::rename(&built, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&built);
        }
    }
    read_template(&dir)
}

fn read_template(dir: &Path) -> Template {
    let text = std::fs::read_to_string(dir.join(MANIFEST)).expect("read manifest");
    let mut lines = text.lines();
    let clock = lines
        .next()
        .and_then(|l| l.parse().ok())
        .expect("manifest clock");
    let by_title = lines
        .filter_map(|l| l.split_once(' '))
        .map(|(t, h)| (t.to_owned(), h.to_owned()))
        .collect();
    Template {
        dir: dir.to_owned(),
        by_title,
        clock,
    }
}

/// Builds the repository exactly as the README's script says.
fn build() -> ConformanceRepo {
    let repo = TestRepo::new();
    let mut by_title = BTreeMap::new();
    let mut add = |title: &str, hash: String| {
        let old = by_title.insert(title.to_owned(), hash);
        assert!(old.is_none(), "duplicate title {title}");
    };
    for rv in 4..=9 {
        for i in 0..=5 {
            if rv == 7 && i == 0 {
                // 650 belongs to release 7 but is based on release 5 (syzkaller #1527).
                repo.checkout("v5.0");
                add("650", repo.commit("650"));
                let c650 = repo.head();
                repo.checkout("master");
                add("700", repo.merge_no_ff(&c650, "700"));
            } else if rv == 8 && i == 4 {
                // A branch off v7.0 merged into 804 (syzkaller #4117).
                repo.checkout("v7.0");
                for t in ["790", "791", "792"] {
                    add(t, repo.commit(t));
                }
                let c792 = repo.head();
                repo.checkout("master");
                add("804", repo.merge_no_ff(&c792, "804"));
            } else {
                let title = (rv * 100 + i).to_string();
                add(&title, repo.commit(&title));
            }
            if i == 0 {
                repo.tag(&format!("v{rv}.0"));
            }
        }
    }
    repo.checkout("v8.0");
    repo.git(&["checkout", "-q", "-b", "v8-branch"]);
    for t in ["850", "851", "852"] {
        add(t, repo.commit(t));
    }
    repo.checkout("master");
    ConformanceRepo { repo, by_title }
}
