//! A real kernel bisection, end to end: Debian's linux-source-6.12 made
//! into a git tree with a planted `WARN_ON_ONCE` (`kbisect demo --kernel
//! --prepare`), then `kbisect run` of its job — the kernel builder (tiny
//! config, persistent build dir, ccache when installed) and the qemu tester
//! (TCG, the C reproducer in an initramfs) — must name the planted commit,
//! in syzbot's log format.
//!
//! Needs linux-source-6.12, qemu-system-x86, gcc, make, flex, bison, bc,
//! libelf-dev (`.ci/install-deps` installs them). Without them it says it
//! was skipped, except in CI (`CI` set), where that is a failure. The build
//! dir and ccache live in `$KBISECT_CACHE_DIR` (else ~/.cache/kbisect), so a
//! later run on the same machine is faster; it passes from nothing too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::path::PathBuf;

use common::*;

fn cache_dir() -> PathBuf {
    std::env::var_os("KBISECT_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kbisect")))
        .unwrap_or_else(|| std::env::temp_dir().join("kbisect-cache"))
        .join("kernel-e2e")
}

fn missing() -> Option<String> {
    let tarball = std::env::var_os("KBISECT_LINUX_TARBALL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/src/linux-source-6.12.tar.xz"));
    if !tarball.is_file() {
        return Some(format!(
            "{} (apt-get install linux-source-6.12)",
            tarball.display()
        ));
    }
    for tool in ["qemu-system-x86_64", "make", "gcc", "flex", "bison", "bc"] {
        let found = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
        if !found {
            return Some(tool.to_string());
        }
    }
    None
}

#[test]
fn a_real_kernel_tree_is_bisected_to_the_planted_commit() {
    if let Some(what) = missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "kernel e2e: {what} is missing, and CI must not skip this test"
        );
        println!("kernel e2e: skipped ({what} is missing)");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let base = t.path().join("case");
    let prepared = kbisect()
        .args([
            "demo",
            "--kernel",
            "--prepare",
            "--no-progress",
            "--workdir",
        ])
        .arg(&base)
        .arg("--cache-dir")
        .arg(cache_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&prepared.stdout);
    assert_eq!(
        prepared.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&prepared.stderr)
    );
    let planted = stdout
        .lines()
        .find_map(|l| l.strip_prefix("planted: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the planted commit")
        .to_string();

    let out = kbisect()
        .arg("run")
        .arg(base.join("job.toml"))
        .arg("--no-progress")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // syzbot's log in form, with bayes's posterior and verification (the
    // default strategy of a kernel cause bisection).
    for want in [
        "bisecting cause commit starting from ",
        "ensuring issue is reproducible on original commit ",
        "testing commit ",
        " with gcc",
        "kernel signature: ",
        "all runs: crashed: WARNING in sys_prctl",
        "testing release v6.12.",
        "all runs: OK",
        "posterior: best ",
        "verification: parent ",
        &format!("{planted} is the first bad commit"),
        "culprit posterior: ",
        "revisions tested: ",
        &format!("first bad commit: {planted} prctl: warn about PR_GET_AUXV"),
        "recipients (to): [",
        "crash: WARNING in sys_prctl",
    ] {
        assert!(stdout.contains(want), "log lacks {want:?}");
    }
    let r = read_json(&base.join("work/result.json"));
    assert_eq!(r["strategy"], "bayes");
    assert_eq!(r["culprits"][0]["commit"], planted.as_str());
    assert_eq!(r["crash"]["type"], "WARNING");
}
