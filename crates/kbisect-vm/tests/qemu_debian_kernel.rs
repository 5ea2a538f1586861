//! Real qemu booting Debian's distribution kernel (no kernel build) with
//! kbisect's initramfs: a clean reproducer, a crash through sysrq (through
//! the engine's `Tester` seam, the kernel as an artifact's `bzImage`), a
//! kernel that cannot find init, and a reproducer that leaves the machine
//! silent.
//! Skipped with a message when qemu, gcc or the kernel is missing and CI is
//! not set; the kernel is fetched with `tests/fetch-debian-kernel.sh`.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use kbisect_core::RunOutcome;
use kbisect_report::{Config, CrashType, Reporter};
use kbisect_vm::qemu::{NO_OUTPUT_TITLE, ReproEnd, RunReport, describe};
use kbisect_vm::{QemuTesterConfig, Reproducer};

struct Vm {
    kernel: PathBuf,
    dir: tempfile::TempDir,
}

fn vm(test: &str) -> Option<Vm> {
    for p in ["qemu-system-x86_64", "gcc"] {
        if !have(p) {
            skip(test, &format!("{p} not found"));
            return None;
        }
    }
    match distribution_kernel() {
        Ok(kernel) => Some(Vm {
            kernel,
            dir: tempfile::tempdir().unwrap(),
        }),
        Err(why) => {
            skip(test, &why);
            None
        }
    }
}

/// Limits for a distribution kernel under TCG on two shared cores: it boots
/// in ~3 s on a quiet machine; ×20 headroom before "boot failed".
fn config() -> QemuTesterConfig {
    QemuTesterConfig {
        run_time: Duration::from_secs(5),
        settle: Duration::from_millis(500),
        boot_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        crash_wait: Duration::from_secs(30),
        end_wait: Duration::from_secs(30),
        memory_mib: 512,
        memory_budget_mib: Some(8192),
        ..QemuTesterConfig::new(Reproducer::CSource("unset.c".into()), "unset")
    }
}

impl Vm {
    fn cfg(&self, cfg: QemuTesterConfig, repro: &str, vms: usize) -> QemuTesterConfig {
        let src = c_source(self.dir.path(), "repro.c", repro);
        QemuTesterConfig {
            reproducer: Reproducer::CSource(src),
            cache_dir: self.dir.path().join("cache"),
            vm_slots: vms,
            ..cfg
        }
    }

    fn runs(
        &self,
        cfg: QemuTesterConfig,
        repro: &str,
        indices: &[usize],
        vms: usize,
    ) -> Vec<RunReport> {
        let t = tester(self.cfg(cfg, repro, vms));
        let _one_at_a_time = vm_lock();
        let runs = run(&t, &self.kernel, &self.dir.path().join("logs"), indices);
        for r in &runs {
            println!(
                "run {}: {} — boot {:?}, run wall time {:?}, {} console bytes",
                r.index,
                describe(&r.outcome),
                r.boot_time,
                r.duration,
                r.console_bytes
            );
        }
        runs
    }
}

#[test]
fn a_clean_reproducer_gives_ok_on_two_vms_at_once() {
    let Some(vm) = vm("a_clean_reproducer_gives_ok") else {
        return;
    };
    let runs = vm.runs(config(), CLEAN_REPRO, &[0, 1], 2);
    assert_eq!(runs.len(), 2);
    for r in &runs {
        assert_eq!(
            r.outcome,
            RunOutcome::Ok,
            "{}",
            std::fs::read_to_string(&r.log).unwrap_or_default()
        );
        assert_eq!(r.repro_end, Some(ReproEnd::Exited(0)));
        assert!(r.boot_time.is_some());
        let log = std::fs::read_to_string(&r.log).unwrap();
        assert!(log.contains("repro: hello"), "{log}");
        assert!(log.contains("KBISECT-END"));
    }
}

const SYSRQ_CRASH: &str = r#"#include <fcntl.h>
#include <unistd.h>
int main(void)
{
	int fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd < 0)
		return 1;
	(void)!write(fd, "c", 1);
	return 2;
}
"#;

#[test]
fn sysrq_c_gives_a_crash_titled_by_the_console_parser() {
    let Some(vm) = vm("sysrq_c_gives_a_crash") else {
        return;
    };
    // Through the engine's seam: the kernel is the artifact's bzImage.
    let mut t = tester(vm.cfg(config(), SYSRQ_CRASH, 1));
    let artifact = artifact_dir(vm.dir.path(), &vm.kernel);
    let logs = vm.dir.path().join("logs");
    let _one_at_a_time = vm_lock();
    let results = run_tester(&mut t, &build(Some(&artifact)), &logs, 1, 1).unwrap();
    let log_path = logs.join("run-1-0.log");
    let r = &results[0];
    let RunOutcome::Crashed(c) = &r.outcome else {
        panic!(
            "{:?}\n{}",
            r.outcome,
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
    };
    // The title is the parser's reading of the same console.
    let log = std::fs::read(&log_path).unwrap();
    let parsed = Reporter::new(&Config::default())
        .unwrap()
        .parse(&log)
        .unwrap();
    assert_eq!(c.title, parsed.title);
    assert_eq!(c.crash_type, parsed.crash_type);
    assert!(c.title.contains("sysrq triggered crash"), "{}", c.title);
    assert!(!c.report.is_empty());
    assert!(
        r.matched
            .as_deref()
            .is_some_and(|l| l.contains("sysrq triggered crash")),
        "{:?}",
        r.matched
    );
    println!(
        "sysrq crash title: {:?} ({}) in {:?}",
        c.title, c.crash_type, r.duration
    );
}

#[test]
fn a_kernel_that_cannot_run_init_is_a_boot_failure() {
    let Some(vm) = vm("a_kernel_that_cannot_run_init") else {
        return;
    };
    let mut cfg = config();
    cfg.cmdline.push_str(" rdinit=/no/such/init");
    let runs = vm.runs(cfg, CLEAN_REPRO, &[0], 1);
    match &runs[0].outcome {
        RunOutcome::BootFailed { reason } => {
            assert!(
                reason.starts_with("kernel panic: VFS: Unable to mount root fs"),
                "{reason}"
            );
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn a_reproducer_that_leaves_the_machine_silent_is_no_output() {
    let Some(vm) = vm("a_reproducer_that_leaves_the_machine_silent") else {
        return;
    };
    let mut cfg = config();
    cfg.run_time = Duration::from_secs(600);
    cfg.idle_timeout = Duration::from_secs(8);
    let hang = "#include <unistd.h>\nint main(void) { for (;;) pause(); }\n";
    let runs = vm.runs(cfg, hang, &[0], 1);
    let r = &runs[0];
    match &r.outcome {
        RunOutcome::Crashed(c) => {
            assert_eq!(c.title, NO_OUTPUT_TITLE);
            assert_eq!(c.crash_type, CrashType::NoOutput);
        }
        o => panic!("{o:?}"),
    }
    assert!(r.boot_time.is_some());
    assert!(r.duration < Duration::from_secs(120), "{:?}", r.duration);
}
