#![allow(clippy::unwrap_used)]
//! make is replaced by scripted fakes (a shell script per behaviour).

use super::*;
use std::os::unix::fs::PermissionsExt;

fn fake_make(dir: &Path, body: &str) -> String {
    let p = dir.join("fake-make");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

fn settings(make: String) -> MakeSettings {
    MakeSettings {
        make,
        jobs: 2,
        arch: "x86_64".into(),
        cc: "ccache gcc".into(),
        hostcc: None,
        kernel_release: "6.12.0-kbisect".into(),
        ccache_dir: Some(PathBuf::from("/tmp/kbisect-ccache")),
        nice: None,
        extra_env: vec![("KBISECT_TEST".into(), "1".into())],
        cancel: None,
    }
}

fn run(body: &str, timeout: Duration) -> (Result<MakeEnd, KernelError>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let make = fake_make(dir.path(), body);
    let log = dir.path().join("build.log");
    let r = settings(make).run(
        dir.path(),
        &dir.path().join("build"),
        &["bzImage"],
        timeout,
        Some(&log),
    );
    (r, dir)
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn arguments_and_environment_are_reproducible() {
    let (r, dir) = run(
        "printf '%s\\n' \"$@\" > \"$2/args\"; env > \"$2/env\"; echo '  CC      kernel/sys.o'",
        MINUTE,
    );
    assert!(matches!(r.unwrap(), MakeEnd::Done { .. }));
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    let b = dir.path().join("build");
    let want = format!(
        "-C\n{}\nO={}\n-j2\nARCH=x86_64\nCC=ccache gcc\nKERNELRELEASE=6.12.0-kbisect\nLOCALVERSION=\nbzImage\n",
        dir.path().display(),
        b.display()
    );
    assert_eq!(args, want);
    let env = std::fs::read_to_string(dir.path().join("env")).unwrap();
    for kv in [
        "KBUILD_BUILD_VERSION=0",
        "KBUILD_BUILD_TIMESTAMP=Thu Jan  1 00:00:00 UTC 1970",
        "KBUILD_BUILD_USER=kbisect",
        "KBUILD_BUILD_HOST=kbisect",
        "CCACHE_DIR=/tmp/kbisect-ccache",
        "KBISECT_TEST=1",
        "LC_ALL=C",
    ] {
        assert!(env.lines().any(|l| l == kv), "{kv} missing in\n{env}");
    }
    let log = std::fs::read_to_string(dir.path().join("build.log")).unwrap();
    assert_eq!(log, "  CC      kernel/sys.o\n");
}

#[test]
fn nice_wraps_make() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(fake_make(dir.path(), "exit 0"));
    s.nice = Some(10);
    let argv = s
        .command(dir.path(), dir.path(), &["vmlinux"], MINUTE)
        .argv_string();
    assert!(argv.starts_with("nice -n 10 /"), "{argv}");
    assert!(matches!(
        s.run(dir.path(), dir.path(), &[], MINUTE, None).unwrap(),
        MakeEnd::Done { .. }
    ));
}

#[test]
fn a_compile_error_is_a_failure_with_its_lines() {
    let (r, _dir) = run(
        "echo '  CC      kernel/sys.o'; echo \"$2/kernel/sys.c:3:1: error: expected ';'\" >&2; echo 'make[1]: *** [Makefile:1: kernel/sys.o] Error 1' >&2; exit 2",
        MINUTE,
    );
    let MakeEnd::Failed(f) = r.unwrap() else {
        panic!("not a failure")
    };
    assert_eq!(f.title, "kernel/sys.c:3:1: error: expected ';'");
    assert_eq!(f.guilty_file.as_deref(), Some("kernel/sys.c"));
}

#[test]
fn memory_disk_signals_and_timeouts_are_infrastructure() {
    let (r, _d) = run(
        "echo 'gcc: fatal error: Killed signal terminated program cc1' >&2; exit 2",
        MINUTE,
    );
    let e = r.unwrap_err();
    assert!(matches!(e, KernelError::OutOfMemory { .. }), "{e}");
    assert!(
        e.to_string()
            .ends_with(": gcc: fatal error: Killed signal terminated program cc1"),
        "{e}"
    );

    let (r, _d) = run("exit 137", MINUTE);
    assert!(matches!(r.unwrap_err(), KernelError::OutOfMemory { .. }));
    let (r, _d) = run("kill -9 $$", MINUTE);
    let e = r.unwrap_err();
    assert!(
        e.to_string()
            .contains("make was killed (killed by signal 9)"),
        "{e}"
    );
    let (r, _d) = run("kill -SEGV $$", MINUTE);
    assert!(matches!(
        r.unwrap_err(),
        KernelError::Killed { signal: 11, .. }
    ));

    let (r, _d) = run(
        "echo 'ld: vmlinux: No space left on device' >&2; exit 2",
        MINUTE,
    );
    assert!(matches!(r.unwrap_err(), KernelError::DiskFull { .. }));

    let (r, _d) = run("sleep 30", Duration::from_millis(300));
    let e = r.unwrap_err();
    assert!(matches!(e, KernelError::Timeout { .. }), "{e}");
    assert!(e.to_string().ends_with("timed out after 0s"), "{e}");
}

#[test]
fn missing_make_is_a_setup_error() {
    let s = settings("/nonexistent/make".into());
    let e = s
        .run(Path::new("/"), Path::new("/"), &[], MINUTE, None)
        .unwrap_err();
    assert_eq!(e.kind(), crate::ErrorKind::Setup);
    assert_eq!(
        e.to_string(),
        "/nonexistent/make not found: install it to build kernels"
    );
}

#[test]
fn cancel_stops_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(fake_make(dir.path(), "sleep 30"));
    let c = CancelToken::new();
    c.cancel();
    s.cancel = Some(c);
    let e = s
        .run(dir.path(), dir.path(), &[], MINUTE, None)
        .unwrap_err();
    assert!(matches!(e, KernelError::Cancelled), "{e}");
}
