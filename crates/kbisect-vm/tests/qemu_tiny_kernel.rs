//! Real qemu booting a tiny kernel built from Debian's linux-source-6.12
//! with a planted `WARN_ON_ONCE` (the kernel end-to-end case): the planted
//! warning is found and titled, and runs without it are clean.
//!
//! Opt-in: the kernels come from a kernel build (kbisect-kernel's end-to-end
//! test makes them in CI), named by `KBISECT_TINY_BAD_BZIMAGE` (has the
//! warning), `KBISECT_TINY_GOOD_BZIMAGE` (has not) and `KBISECT_TINY_REPRO`
//! (the C reproducer that reaches it). Without them the test says it was
//! skipped, CI or not.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use kbisect_core::RunOutcome;
use kbisect_report::{Config, CrashType, Reporter};
use kbisect_vm::qemu::describe;
use kbisect_vm::{QemuTesterConfig, Reproducer};

fn env_file(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os(name)?);
    p.is_file().then_some(p)
}

#[test]
fn the_planted_warning_is_found_and_runs_without_it_are_clean() {
    let (Some(bad), Some(good), Some(repro)) = (
        env_file("KBISECT_TINY_BAD_BZIMAGE"),
        env_file("KBISECT_TINY_GOOD_BZIMAGE"),
        env_file("KBISECT_TINY_REPRO"),
    ) else {
        println!(
            "tiny_kernel: skipped: set KBISECT_TINY_BAD_BZIMAGE, KBISECT_TINY_GOOD_BZIMAGE and KBISECT_TINY_REPRO"
        );
        return;
    };
    if !have("qemu-system-x86_64") || !have("gcc") {
        skip("tiny_kernel", "qemu-system-x86_64 or gcc not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = QemuTesterConfig {
        run_time: Duration::from_secs(5),
        settle: Duration::from_millis(500),
        boot_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        vm_slots: 2,
        memory_budget_mib: Some(4096),
        ..QemuTesterConfig::new(Reproducer::CSource(repro), dir.path().join("cache"))
    };
    let with_repro = tester(cfg.clone());
    let clean_src = c_source(dir.path(), "clean.c", CLEAN_REPRO);
    let clean = tester(QemuTesterConfig {
        reproducer: Reproducer::CSource(clean_src),
        ..cfg
    });
    let _one_at_a_time = vm_lock();

    let runs = run(&with_repro, &bad, &dir.path().join("bad"), &[0, 1]);
    let reporter = Reporter::new(&Config::default()).unwrap();
    for r in &runs {
        println!(
            "bad kernel, run {}: {} — boot {:?}, wall {:?}",
            r.index,
            describe(&r.outcome),
            r.boot_time,
            r.duration
        );
        let RunOutcome::Crashed(c) = &r.outcome else {
            panic!(
                "{:?}\n{}",
                r.outcome,
                std::fs::read_to_string(&r.log).unwrap_or_default()
            );
        };
        assert!(c.title.starts_with("WARNING in "), "{}", c.title);
        assert_eq!(c.crash_type, CrashType::Warning);
        let parsed = reporter.parse(&std::fs::read(&r.log).unwrap()).unwrap();
        assert_eq!(c.title, parsed.title);
    }
    for (what, t, kernel) in [
        ("good kernel, reproducer", &with_repro, &good),
        ("bad kernel, clean program", &clean, &bad),
    ] {
        let runs = run(t, kernel, &dir.path().join("clean"), &[0]);
        println!(
            "{what}: {} — boot {:?}, wall {:?}",
            describe(&runs[0].outcome),
            runs[0].boot_time,
            runs[0].duration
        );
        assert_eq!(
            runs[0].outcome,
            RunOutcome::Ok,
            "{what}: {}",
            std::fs::read_to_string(&runs[0].log).unwrap_or_default()
        );
    }
}
