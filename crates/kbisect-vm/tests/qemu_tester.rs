//! The qemu tester as a whole against scripted fake qemu programs: bad
//! setup (qemu, the compiler or the kernel image missing; a reproducer that
//! does not compile), parallelism bounded by slots and memory,
//! cancellation, process-group records, and the engine's `Tester` seam
//! (the artifact directory, log names, matched lines).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::fake::*;
use common::*;
use kbisect_core::{InfraError, RunOutcome};
use kbisect_proc::CancelToken;
use kbisect_vm::qemu::{GuestError, QemuRun, prepare_guest};
use kbisect_vm::{QemuError, QemuTester, QemuTesterConfig, Reproducer};

#[test]
fn qemu_that_cannot_start_is_an_infra_outcome_and_missing_is_bad_setup() {
    let Some(env) = Env::new() else { return };
    let q = env
        .qemu("echo \"qemu-system-x86_64: could not load kernel '/fake/bzImage'\" >&2\nexit 1\n");
    assert_eq!(
        env.one(env.cfg(&q)).outcome,
        RunOutcome::Infra {
            reason: "qemu exited with status 1 before any console output: qemu-system-x86_64: could not load kernel '/fake/bzImage'".into()
        }
    );
    let t = tester(env.cfg(&env.path("no-such-qemu")));
    match try_run(&t, &env.kernel(), &env.path("logs"), &[0]) {
        Err(InfraError::Setup { what, .. }) => assert!(
            what.starts_with(&format!(
                "qemu not found: {}",
                env.path("no-such-qemu").display()
            )),
            "{what}"
        ),
        r => panic!("{r:?}"),
    }
    // No kernel image at all (a build that made none).
    let t = tester(env.cfg(&q));
    match try_run(&t, &env.path("no-such-bzImage"), &env.path("logs"), &[0]) {
        Err(InfraError::Setup { what, .. }) => assert_eq!(
            what,
            format!(
                "kernel image {} does not exist",
                env.path("no-such-bzImage").display()
            )
        ),
        r => panic!("{r:?}"),
    }
    // qemu itself killed while the machine boots, or while the reproducer runs.
    for (at, when) in [("", "the machine booted"), (BASIC, "the reproducer ran")] {
        let q = env.qemu(&format!("{PREAMBLE}{at}kill -9 $$\n"));
        match env.one(env.cfg(&q)).outcome {
            RunOutcome::Infra { reason } => assert!(
                reason.starts_with(&format!("qemu was killed by signal 9 while {when}")),
                "{reason}"
            ),
            o => panic!("{o:?}"),
        }
    }
}

#[test]
fn a_reproducer_that_does_not_compile_fails_every_run() {
    let Some(env) = Env::new() else { return };
    let q = env.qemu(&format!("{PREAMBLE}{BASIC}{END}"));
    let bad = c_source(env.dir.path(), "bad.c", "int main(void) { return y; }\n");
    let t = tester(QemuTesterConfig {
        vm_slots: 2,
        ..quick_config(&q, Reproducer::CSource(bad.clone()), &env.path("cache"))
    });
    let runs = run(&t, &env.kernel(), &env.path("logs"), &[0, 1, 2]);
    assert_eq!(runs.len(), 3);
    for r in &runs {
        match &r.outcome {
            RunOutcome::TestFailed { reason } => {
                assert!(
                    reason.starts_with("reproducer does not compile: bad.c:1:"),
                    "{reason}"
                );
                assert!(reason.contains("error: 'y' undeclared"), "{reason}");
                assert!(!reason.contains('\n'), "{reason}");
            }
            o => panic!("{o:?}"),
        }
        // The log has the compiler's words and the user's path.
        let log = std::fs::read_to_string(&r.log).unwrap();
        assert!(
            log.starts_with("kbisect: basic kernel testing failed: reproducer does not compile"),
            "{log}"
        );
        assert!(
            log.contains(&format!("{}:\nbad.c:1:", bad.display())),
            "{log}"
        );
    }
    // The typed error keeps the first error lines and the user's path.
    match prepare_guest(
        &Default::default(),
        &env.path("cache"),
        &Reproducer::CSource(bad.clone()),
        Duration::from_secs(1),
        Duration::ZERO,
        &CancelToken::new(),
    ) {
        Err(GuestError::ReproDoesNotCompile { path, errors }) => {
            assert_eq!(path, bad);
            assert!(errors.starts_with("bad.c:1:"), "{errors}");
        }
        r => panic!("{r:?}"),
    }
    // A ready binary that is not there, a missing compiler: bad setup.
    let t = tester(quick_config(
        &q,
        Reproducer::Binary(env.path("no-such-binary")),
        &env.path("cache"),
    ));
    match try_run(&t, &env.kernel(), &env.path("logs"), &[0]) {
        Err(InfraError::Setup { what, .. }) => assert!(
            what.starts_with(&format!(
                "cannot read the reproducer {}: ",
                env.path("no-such-binary").display()
            )),
            "{what}"
        ),
        r => panic!("{r:?}"),
    }
    let mut cfg = env.cfg(&q);
    cfg.compile.cc = env.path("no-such-gcc");
    cfg.cache_dir = env.path("cache2");
    match try_run(&tester(cfg), &env.kernel(), &env.path("logs"), &[0]) {
        Err(InfraError::Setup { what, .. }) => {
            assert!(what.contains("compiler not found"), "{what}")
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn runs_are_parallel_up_to_slots_and_memory() {
    let Some(env) = Env::new() else { return };
    // Each fake machine counts the machines running beside it.
    let state = env.path("state");
    std::fs::create_dir_all(&state).unwrap();
    let body = format!(
        "d={s}\nmkdir \"$d/run.$$\"\nn=$(ls \"$d\" | grep -c '^run\\.')\necho $n >> \"$d/counts\"\nsleep 0.5\nrmdir \"$d/run.$$\"\n{PREAMBLE}{BASIC}{END}",
        s = state.display()
    );
    let q = env.qemu(&body);
    let peak = |vm_slots: usize, memory_budget_mib: u64| {
        let _ = std::fs::remove_file(state.join("counts"));
        let t = tester(QemuTesterConfig {
            vm_slots,
            memory_budget_mib: Some(memory_budget_mib),
            ..env.cfg(&q)
        });
        let runs = run(&t, &env.kernel(), &env.path("logs"), &[4, 0, 2, 1]);
        assert_eq!(
            runs.iter().map(|r| r.index).collect::<Vec<_>>(),
            vec![0, 1, 2, 4]
        );
        assert!(runs.iter().all(|r| r.outcome == RunOutcome::Ok));
        for r in &runs {
            assert!(r.log.ends_with(format!("run-{}.log", r.index)));
        }
        let counts = std::fs::read_to_string(state.join("counts")).unwrap();
        let peak = counts
            .lines()
            .map(|l| l.trim().parse::<usize>().unwrap())
            .max()
            .unwrap();
        (t.parallelism(), peak)
    };
    assert_eq!(peak(1, 100_000), (1, 1));
    let (p, seen) = peak(3, 100_000);
    assert!(p == 3 && seen <= 3, "{p} {seen}");
    // Memory for two VMs of 512 MiB (+ overhead) only.
    let per_vm = env.cfg(&q).vm_memory_mib();
    let (p, seen) = peak(4, 2 * per_vm + 1);
    assert!(p == 2 && seen <= 2, "{p} {seen}");
    let e = QemuTester::new(
        QemuTesterConfig {
            vm_slots: 4,
            memory_budget_mib: Some(per_vm - 1),
            ..env.cfg(&q)
        },
        CancelToken::new(),
    )
    .err()
    .unwrap();
    assert_eq!(
        e.to_string(),
        format!(
            "memory budget of {} MiB does not fit one VM ({per_vm} MiB: -m plus qemu's overhead)",
            per_vm - 1
        )
    );
    assert!(matches!(
        QemuTester::new(
            QemuTesterConfig {
                vm_slots: 0,
                ..env.cfg(&q)
            },
            CancelToken::new()
        ),
        Err(QemuError::NoSlots)
    ));
}

#[test]
fn cancelling_stops_the_runs_and_says_interrupted() {
    let Some(env) = Env::new() else { return };
    let q = env.qemu(&format!("{PREAMBLE}{BASIC}sleep 60\n"));
    let cancel = CancelToken::new();
    let t = QemuTester::new(
        QemuTesterConfig {
            vm_slots: 2,
            ..env.cfg(&q)
        },
        cancel.clone(),
    )
    .unwrap();
    // Compiled first, so that the cancel lands on the machines.
    t.prepare().unwrap();
    let c2 = cancel.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        c2.cancel();
    });
    let mut delivered = 0;
    let kernel = env.kernel();
    std::fs::create_dir_all(env.path("logs")).unwrap();
    let runs: Vec<QemuRun<'_>> = (0..3)
        .map(|index| QemuRun {
            kernel: &kernel,
            log: env.path(&format!("logs/run-{index}.log")),
            index,
        })
        .collect();
    let started = std::time::Instant::now();
    let res = t.run_machines(&runs, &mut |_, _| {
        delivered += 1;
        true
    });
    stopper.join().unwrap();
    assert!(matches!(res, Err(InfraError::Interrupted)), "{res:?}");
    assert_eq!(delivered, 0);
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// The engine's seam: the artifact is a directory holding `bzImage`; logs
/// are `run-<occurrence>-<index>.log`; crashes come back with their line.
#[test]
fn the_tester_seam_boots_the_artifacts_bzimage_and_names_logs_by_occurrence() {
    let Some(env) = Env::new() else { return };
    // The fake says which kernel it was given.
    let q = env.qemu(&format!(
        "for a; do [ \"$prev\" = -kernel ] && k=$a; prev=$a; done\nprintf 'kernel: %s\\r\\n' \"$k\"\n{PREAMBLE}{BASIC}{WARN}"
    ));
    let kernel = env.kernel();
    let artifact = artifact_dir(env.dir.path(), &kernel);
    let mut t = tester(QemuTesterConfig {
        vm_slots: 2,
        ..env.cfg(&q)
    });
    let logs = env.path("req-logs");
    let results = run_tester(&mut t, &build(Some(&artifact)), &logs, 2, 3).unwrap();
    assert_eq!(results.len(), 3);
    for (i, r) in results.iter().enumerate() {
        let RunOutcome::Crashed(c) = &r.outcome else {
            panic!("{r:?}")
        };
        assert_eq!(c.title, "WARNING in do_sys_openat2");
        assert_eq!(
            r.matched.as_deref(),
            Some(
                "[    2.000002] WARNING: CPU: 0 PID: 42 at fs/open.c:1400 do_sys_openat2+0x10/0x20"
            )
        );
        let log = std::fs::read_to_string(logs.join(format!("run-2-{i}.log"))).unwrap();
        assert!(
            log.starts_with(&format!("kernel: {}/bzImage\n", artifact.display())),
            "{log}"
        );
    }
    // No artifact, or one without a bzImage: the builder does not make
    // what this tester needs.
    for b in [build(None), build(Some(&env.path("cache")))] {
        match run_tester(&mut t, &b, &logs, 0, 1) {
            Err(InfraError::Setup { what, .. }) => {
                assert!(what.contains("bzImage"), "{what}")
            }
            r => panic!("{r:?}"),
        }
    }
}

#[test]
fn qemu_runs_record_their_process_group_with_the_testers_token() {
    let Some(env) = Env::new() else { return };
    let groups = env.path("running");
    std::fs::create_dir_all(&groups).unwrap();
    let seen = env.path("seen");
    let q = env.qemu(&format!(
        "ls {g} > {s}\necho $$ >> {s}\n{PREAMBLE}{BASIC}{END}",
        g = groups.display(),
        s = seen.display()
    ));
    let t = QemuTester::new(env.cfg(&q), CancelToken::new().recording_groups_in(&groups)).unwrap();
    let r = run(&t, &env.kernel(), &env.path("logs"), &[0]);
    assert_eq!(r[0].outcome, RunOutcome::Ok);
    let seen = std::fs::read_to_string(&seen).unwrap();
    let lines: Vec<&str> = seen.lines().collect();
    // While it ran, its group (led by the fake itself) was on record.
    assert_eq!(lines.len(), 2, "{seen}");
    assert_eq!(lines[0], lines[1]);
    assert_eq!(std::fs::read_dir(&groups).unwrap().count(), 0);
}
