//! A real kernel, built by `KernelBuild`: Debian's linux-source-6.12 made
//! into the end-to-end tree (bench/kernel-e2e/make-tree.sh), tiny config,
//! clean then incremental builds, signatures, files used, a broken revision.
//!
//! Minutes of CPU, so `#[ignore]`d: run it with
//! `cargo test -p kbisect-kernel --test real_kernel -- --ignored --nocapture`
//! (or bench/kernel-e2e.sh). `KBISECT_KERNEL_WORK` keeps the tree, build dir
//! and ccache between runs (later runs are incremental); without it all of it
//! lives in a temp dir. Skipped (passes) without the tarball
//! (`KBISECT_KERNEL_TARBALL`, default /usr/src/linux-source-6.12.tar.xz).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use kbisect_git::{CommitId, Repo, Worktree};
use kbisect_kernel::{
    ConfigValue, KernelArtifacts, KernelBuild, KernelBuildRequest, KernelConfig, KernelOutcome,
    KernelSettings, ToolchainTable,
};
use kbisect_proc::Cmd;

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/kernel-e2e")
}

fn git(tree: &Path, args: &[&str]) -> String {
    Cmd::new("git")
        .arg("-C")
        .arg(tree)
        .args(args)
        .run_checked()
        .unwrap()
        .stdout_str()
        .trim()
        .to_owned()
}

fn rev(tree: &Path, grep: &str) -> CommitId {
    git(
        tree,
        &[
            "log",
            "--format=%H",
            "-1",
            &format!("--grep={grep}"),
            "master",
        ],
    )
    .parse()
    .unwrap()
}

/// tinyconfig with the e2e fragment merged, olddefconfig'd: the job's config.
fn job_config(tree: &Path, work: &Path) -> Vec<u8> {
    let dir = work.join("builder-config");
    std::fs::create_dir_all(&dir).unwrap();
    let make = |target: &str| {
        Cmd::new("make")
            .arg("-C")
            .arg(tree)
            .arg(format!("O={}", dir.display()))
            .args(["-s", target])
            .timeout(Duration::from_secs(600))
            .run_checked()
            .unwrap();
    };
    make("tinyconfig");
    let mut c = KernelConfig::read(&dir.join(".config")).unwrap();
    let fragment = KernelConfig::read(&bench_dir().join("tiny.config")).unwrap();
    c.merge(&fragment);
    c.write(&dir.join(".config")).unwrap();
    make("olddefconfig");
    let done = KernelConfig::read(&dir.join(".config")).unwrap();
    let dropped = done.dropped_from(&fragment, None);
    assert!(
        dropped.is_empty(),
        "tiny.config does not survive olddefconfig: {dropped:?}"
    );
    std::fs::read(dir.join(".config")).unwrap()
}

struct Row {
    what: String,
    secs: f64,
    cleaned: bool,
    signature: String,
}

#[test]
#[ignore = "builds a real kernel: minutes of CPU"]
fn real_kernel_builds() {
    let tarball = std::env::var_os("KBISECT_KERNEL_TARBALL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/src/linux-source-6.12.tar.xz"));
    if !tarball.is_file() {
        eprintln!("skipped: no {}", tarball.display());
        return;
    }
    let _tmp;
    let work = match std::env::var_os("KBISECT_KERNEL_WORK") {
        Some(w) => PathBuf::from(w),
        None => {
            _tmp = tempfile::tempdir().unwrap();
            _tmp.path().to_owned()
        }
    };
    std::fs::create_dir_all(&work).unwrap();
    let tree = work.join("linux");
    if !tree.join(".git").exists() {
        Cmd::new(bench_dir().join("make-tree.sh"))
            .arg(&tarball)
            .arg(&tree)
            .timeout(Duration::from_secs(1800))
            .run_checked()
            .unwrap();
    }
    let config = job_config(&tree, &work);
    let repo = Repo::open(&tree).unwrap();
    let wt = Worktree::create(&repo, &work.join("builder-wt")).unwrap();
    let mut settings = KernelSettings::new(ToolchainTable::builtin().unwrap());
    settings.nice = Some(10);
    settings.ccache_dir = Some(work.join("builder-ccache"));
    settings.make_timeout = Duration::from_secs(3600);
    let kb = KernelBuild::new(settings);
    let build_dir = work.join("builder-build");
    std::fs::create_dir_all(&build_dir).unwrap();
    let mut rows: Vec<Row> = Vec::new();
    let mut n = 0;
    let mut build = |what: &str, id: &CommitId| -> KernelOutcome {
        wt.checkout_keeping(id, &[]).unwrap();
        n += 1;
        let out = kb
            .build(&KernelBuildRequest {
                source_dir: wt.path(),
                build_dir: &build_dir,
                config: &config,
                out_dir: &work.join(format!("builder-out/{n}")),
                git: Some((&repo, &wt)),
                cancel: None,
            })
            .unwrap();
        let (secs, cleaned, signature) = match &out {
            KernelOutcome::Built(a) => (
                a.duration.as_secs_f64(),
                a.cleaned.is_some(),
                a.signature.0[..16].to_owned(),
            ),
            KernelOutcome::Failed(f) => (
                f.duration.as_secs_f64(),
                false,
                format!("FAILED: {}", f.title),
            ),
        };
        eprintln!("{what:<44} {secs:>7.1}s {signature}");
        rows.push(Row {
            what: what.into(),
            secs,
            cleaned,
            signature,
        });
        out
    };
    let artifacts = |o: KernelOutcome| -> Box<KernelArtifacts> {
        match o {
            KernelOutcome::Built(a) => a,
            KernelOutcome::Failed(f) => panic!("{f:?}"),
        }
    };

    let good: CommitId = git(&tree, &["rev-parse", "v6.12.117^{commit}"])
        .parse()
        .unwrap();
    let second: CommitId = git(&tree, &["rev-parse", "v6.12.118^{commit}"])
        .parse()
        .unwrap();
    let culprit = rev(&tree, "^prctl: warn about PR_GET_AUXV");
    let culprit_parent: CommitId = git(&tree, &["rev-parse", &format!("{culprit}^")])
        .parse()
        .unwrap();
    let mm_note = rev(&tree, "^mm/page_alloc: when watermarks");
    let head: CommitId = git(&tree, &["rev-parse", "master"]).parse().unwrap();

    let a = artifacts(build("v6.12.117 (first build)", &good));
    let b = artifacts(build("v6.12.117 again", &good));
    assert_eq!(
        a.signature, b.signature,
        "two builds of one revision differ"
    );
    assert!(b.cleaned.is_none());
    assert!(a.compiler.starts_with("gcc ("), "{}", a.compiler);
    assert_eq!(
        a.config_value("CONFIG_LOCALVERSION_AUTO"),
        Some(ConfigValue::No)
    );
    // Independent check of the signature (the bench's Python version).
    if let Ok(out) = Cmd::new(bench_dir().join("sig.py"))
        .arg(&a.vmlinux)
        .run_checked()
    {
        assert_eq!(out.stdout_str().trim(), a.signature.0);
    }
    let used = &a.files_used;
    for f in [
        "kernel/sys.c",
        "include/linux/kernel.h",
        "arch/x86/Kconfig",
        "init/main.c",
    ] {
        assert!(used.contains(f), "{f} not among {} files used", used.len());
    }
    for f in [
        "drivers/net/ethernet/intel/e1000e/netdev.c",
        "Documentation/process/howto.rst",
        "fs/ext4/super.c",
        "net/ipv4/tcp.c",
        "sound/core/init.c",
    ] {
        assert!(!used.may_affect(f), "{f} counted as used");
    }

    let p = artifacts(build("culprit's parent (incremental)", &culprit_parent));
    let c = artifacts(build("culprit (kernel/sys.c WARN)", &culprit));
    assert_ne!(p.signature, c.signature);
    let s = artifacts(build("v6.12.118", &second));
    let m = artifacts(build("mm/page_alloc comment (no-op)", &mm_note));
    assert_eq!(
        s.signature, m.signature,
        "a comment appended to a built file changed the binary"
    );
    artifacts(build("HEAD", &head));

    // A revision that does not compile: a skip with the compiler's words.
    git(wt.path(), &["checkout", "-q", "--detach", head.as_str()]);
    let sys = wt.path().join("kernel/sys.c");
    let text = std::fs::read_to_string(&sys).unwrap();
    std::fs::write(
        &sys,
        text.replacen(
            "static int prctl_get_auxv(",
            "static int prctl_get_auxv(int oops ",
            1,
        ),
    )
    .unwrap();
    let ident = ["-c", "user.name=t", "-c", "user.email=t@example.org"];
    git(
        wt.path(),
        &[&ident[..], &["commit", "-q", "-a", "-m", "broken"]].concat(),
    );
    let broken: CommitId = git(wt.path(), &["rev-parse", "HEAD"]).parse().unwrap();
    let KernelOutcome::Failed(f) = build("a broken revision", &broken) else {
        panic!("the broken revision built")
    };
    assert_eq!(f.guilty_file.as_deref(), Some("kernel/sys.c"), "{f:?}");
    assert!(
        f.title.starts_with("kernel/sys.c:") && f.title.contains("error:"),
        "{}",
        f.title
    );
    assert!(f.error_lines.len() <= 20);

    eprintln!(
        "\n{:<44} {:>8} {:>7}  signature",
        "build", "seconds", "clean"
    );
    for r in &rows {
        eprintln!(
            "{:<44} {:>8.1} {:>7}  {}",
            r.what,
            r.secs,
            if r.cleaned { "yes" } else { "" },
            r.signature
        );
    }
}

trait ConfigOf {
    fn config_value(&self, name: &str) -> Option<ConfigValue>;
}
impl ConfigOf for KernelArtifacts {
    fn config_value(&self, name: &str) -> Option<ConfigValue> {
        KernelConfig::read(&self.config).unwrap().get(name).cloned()
    }
}
