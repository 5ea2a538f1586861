//! Boot and run times under qemu (TCG here), and what a second VM slot buys
//! on this machine: the same clean runs with 1 and with 2 VMs at once, side
//! by side in one run, on Debian's distribution kernel (found or fetched as
//! the tests do) and, when named by `KBISECT_TINY_GOOD_BZIMAGE`, a tiny
//! kernel built from linux-source-6.12.
//!
//!   cargo bench -p kbisect-vm --bench qemu_boot [-- RUNS]

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    dead_code
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{CLEAN_REPRO, c_source, distribution_kernel, have, run, tester};
use kbisect_core::RunOutcome;
use kbisect_vm::qemu::{RunReport, describe};
use kbisect_vm::{QemuTesterConfig, Reproducer};

const SYSRQ: &str = "#include <fcntl.h>\n#include <unistd.h>\nint main(void) { int fd = open(\"/proc/sysrq-trigger\", O_WRONLY); (void)!write(fd, \"c\", 1); return 1; }\n";

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4);
    if !have("qemu-system-x86_64") || !have("gcc") {
        println!("boot: skipped (qemu-system-x86_64 or gcc not found)");
        return;
    }
    let mut kernels: Vec<(String, PathBuf)> = Vec::new();
    match distribution_kernel() {
        Ok(k) => kernels.push((k.file_name().unwrap().to_string_lossy().into_owned(), k)),
        Err(e) => println!("boot: no Debian kernel ({e})"),
    }
    if let Some(k) = std::env::var_os("KBISECT_TINY_GOOD_BZIMAGE").map(PathBuf::from) {
        kernels.push(("tiny 6.12 bzImage".into(), k));
    }
    let dir = tempfile::tempdir().unwrap();
    let clean = c_source(dir.path(), "clean.c", CLEAN_REPRO);
    let sysrq = c_source(dir.path(), "sysrq.c", SYSRQ);
    let cfg = QemuTesterConfig {
        run_time: Duration::from_secs(5),
        settle: Duration::ZERO,
        boot_timeout: Duration::from_secs(120),
        idle_timeout: Duration::from_secs(120),
        memory_budget_mib: Some(8192),
        ..QemuTesterConfig::new(Reproducer::CSource(clean.clone()), dir.path().join("cache"))
    };
    println!(
        "boot: {runs} clean runs per cell (qemu {}, -m {} -smp {}, TCG)",
        cfg.accel, cfg.memory_mib, cfg.cpus
    );
    println!(
        "| kernel | VMs | boot to basic test (min/median/max) | run wall (median) | batch wall | runs/min |"
    );
    println!(
        "|--------|-----|-------------------------------------|-------------------|------------|----------|"
    );
    for (name, kernel) in &kernels {
        let mut per_min = Vec::new();
        for vms in [1, 2] {
            let t = tester(QemuTesterConfig {
                vm_slots: vms,
                ..cfg.clone()
            });
            let idx: Vec<usize> = (0..runs).collect();
            let start = Instant::now();
            let reports = run(&t, kernel, &dir.path().join("logs"), &idx);
            let wall = start.elapsed();
            check(&reports);
            let mut boots: Vec<Duration> = reports.iter().filter_map(|r| r.boot_time).collect();
            boots.sort();
            let mut walls: Vec<Duration> = reports.iter().map(|r| r.duration).collect();
            walls.sort();
            let rate = runs as f64 / wall.as_secs_f64() * 60.0;
            per_min.push(rate);
            println!(
                "| {name} | {vms} | {:.2}s / {:.2}s / {:.2}s | {:.2}s | {:.1}s | {rate:.1} |",
                secs(boots[0]),
                secs(boots[boots.len() / 2]),
                secs(boots[boots.len() - 1]),
                secs(walls[walls.len() / 2]),
                secs(wall)
            );
        }
        println!(
            "| {name} | 2 vs 1 | throughput ratio {:.2} | | | |",
            per_min[1] / per_min[0]
        );
        let t = tester(QemuTesterConfig {
            reproducer: Reproducer::CSource(sysrq.clone()),
            ..cfg.clone()
        });
        let r = run(&t, kernel, &dir.path().join("logs"), &[0]);
        println!(
            "| {name} | 1 | sysrq crash run: {} in {:.2}s (boot {:.2}s) | | | |",
            describe(&r[0].outcome),
            secs(r[0].duration),
            r[0].boot_time.map_or(0.0, secs)
        );
    }
}

fn check(reports: &[RunReport]) {
    for r in reports {
        if r.outcome != RunOutcome::Ok {
            eprintln!(
                "run {}: {} (log {})",
                r.index,
                describe(&r.outcome),
                r.log.display()
            );
        }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
