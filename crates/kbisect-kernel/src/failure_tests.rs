#![allow(clippy::unwrap_used)]
use super::*;

const SRC: &str = "/work/kernel/linux";

fn extract(stderr: &str) -> BuildFailure {
    extract_failure(
        b"",
        stderr.as_bytes(),
        Path::new(SRC),
        "exit status 2",
        Duration::from_secs(3),
    )
}

#[test]
fn compiler_error_with_cascade_notes_and_excerpts() {
    let stderr = "\
/work/kernel/linux/kernel/sys.c: In function '__do_sys_prctl':
/work/kernel/linux/kernel/sys.c:2470:9: warning: unused variable 'x' [-Wunused-variable]
 2470 |         int x;
      |             ^
/work/kernel/linux/kernel/sys.c:2471:9: error: 'foo' undeclared (first use in this function)
 2471 |         foo = 1;
      |         ^~~
/work/kernel/linux/kernel/sys.c:2471:9: note: each undeclared identifier is reported only once for each function it appears in
make[4]: *** [/work/kernel/linux/scripts/Makefile.build:229: kernel/sys.o] Error 1
make[3]: *** [/work/kernel/linux/scripts/Makefile.build:478: kernel] Error 2
make[3]: *** Waiting for unfinished jobs....
make[2]: *** [/work/kernel/linux/Makefile:1947: .] Error 2
make[1]: *** [/work/kernel/linux/Makefile:224: __sub-make] Error 2
make[1]: Leaving directory '/work/kernel/build'
make: *** [Makefile:224: __sub-make] Error 2
";
    let f = extract(stderr);
    assert_eq!(
        f.title,
        "kernel/sys.c:2471:9: error: 'foo' undeclared (first use in this function)"
    );
    assert_eq!(f.error_lines, std::slice::from_ref(&f.title));
    assert_eq!(f.guilty_file.as_deref(), Some("kernel/sys.c"));
    assert_eq!(f.duration, Duration::from_secs(3));
}

#[test]
fn included_header_errors_blame_the_header() {
    let stderr = "\
In file included from /work/kernel/linux/include/linux/kernel.h:30,
                 from /work/kernel/linux/kernel/fork.c:12:
/work/kernel/linux/include/linux/bitops.h:40:1: error: expected ';' before 'static'
   40 | static inline int f(void)
      | ^~~~~~
make[3]: *** [/work/kernel/linux/scripts/Makefile.build:229: kernel/fork.o] Error 1
";
    let f = extract(stderr);
    assert_eq!(f.guilty_file.as_deref(), Some("include/linux/bitops.h"));
    assert_eq!(f.error_lines.len(), 1);
}

#[test]
fn linker_errors() {
    let stderr = "\
  LD      vmlinux.o
ld: vmlinux.o: in function `__x64_sys_prctl':
/work/kernel/linux/kernel/sys.c:2475:(.text+0x5d2a): undefined reference to `kbisect_missing'
make[2]: *** [/work/kernel/linux/scripts/Makefile.vmlinux_o:63: vmlinux.o] Error 1
";
    let f = extract(stderr);
    assert_eq!(
        f.title,
        "kernel/sys.c:2475:(.text+0x5d2a): undefined reference to `kbisect_missing'"
    );
    assert_eq!(f.guilty_file.as_deref(), Some("kernel/sys.c"));
    let f = extract(
        "ld: kernel/sys.o: in function `f':\nsys.c:(.text+0x5): undefined reference to `g'\n",
    );
    assert_eq!(f.guilty_file.as_deref(), Some("sys.c"));
}

#[test]
fn no_rule_and_make_only_failures() {
    let f = extract(
        "make[3]: *** No rule to make target 'kernel/gone.o', needed by 'kernel/built-in.a'.  Stop.\nmake[2]: *** [Makefile:1947: .] Error 2\n",
    );
    assert_eq!(
        f.title,
        "make[3]: *** No rule to make target 'kernel/gone.o', needed by 'kernel/built-in.a'.  Stop."
    );
    assert_eq!(f.guilty_file, None);

    // Only the cascade: the object's source is blamed when it exists.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("kernel")).unwrap();
    std::fs::write(dir.path().join("kernel/sys.c"), "").unwrap();
    let f = extract_failure(
        b"",
        b"make[4]: *** [scripts/Makefile.build:229: kernel/sys.o] Error 1\nmake: *** [Makefile:224: __sub-make] Error 2\n",
        dir.path(),
        "exit status 2",
        Duration::ZERO,
    );
    assert!(f.error_lines.is_empty());
    assert_eq!(
        f.title,
        "make[4]: *** [scripts/Makefile.build:229: kernel/sys.o] Error 1"
    );
    assert_eq!(f.guilty_file.as_deref(), Some("kernel/sys.c"));

    let f = extract_failure(b"", b"", Path::new(SRC), "exit status 2", Duration::ZERO);
    assert_eq!(f.title, "make failed (exit status 2)");
    let f = extract_failure(
        b"something odd\n",
        b"",
        Path::new(SRC),
        "exit status 1",
        Duration::ZERO,
    );
    assert_eq!(f.title, "something odd");
}

#[test]
fn at_most_twenty_error_lines_and_stdout_counts() {
    let many: String = (1..=30)
        .map(|i| format!("/work/kernel/linux/a.c:{i}:1: error: e{i}\n"))
        .collect();
    let f = extract(&many);
    assert_eq!(f.error_lines.len(), MAX_ERROR_LINES);
    assert_eq!(f.error_lines[19], "a.c:20:1: error: e20");
    let f = extract_failure(
        b"  CC      kernel/sys.o\nERROR: modpost: \"foo\" [vmlinux] undefined!\n",
        b"",
        Path::new(SRC),
        "exit status 2",
        Duration::ZERO,
    );
    assert_eq!(f.title, "ERROR: modpost: \"foo\" [vmlinux] undefined!");
}

#[test]
fn warnings_and_build_progress_are_not_errors() {
    let f = extract(
        "  CC      drivers/error/foo.o\nvmlinux.o: warning: objtool: error_entry+0x2: call without frame pointer\n/work/kernel/linux/a.c:1:1: warning: 'error' is deprecated\nmake[1]: *** [Makefile:2: all] Error 2\n",
    );
    assert!(f.error_lines.is_empty(), "{:?}", f.error_lines);
}

#[test]
fn machine_failures_are_recognised() {
    let oom = b"gcc: fatal error: Killed signal terminated program cc1\ncompilation terminated.\n";
    assert_eq!(
        infra_sign(&[b"", oom]),
        Some(InfraSign::OutOfMemory(
            "gcc: fatal error: Killed signal terminated program cc1".into()
        ))
    );
    assert!(matches!(
        infra_sign(&[b"Killed\n"]),
        Some(InfraSign::OutOfMemory(_))
    ));
    assert!(matches!(
        infra_sign(&[b"ld: final link failed: memory exhausted\n"]),
        Some(InfraSign::OutOfMemory(_))
    ));
    assert_eq!(
        infra_sign(&[b"/work/kernel/build/kernel/.tmp_sys.o: No space left on device\n"]),
        Some(InfraSign::DiskFull(
            "/work/kernel/build/kernel/.tmp_sys.o: No space left on device".into()
        ))
    );
    assert_eq!(
        infra_sign(&[b"kernel/sys.c:1:1: error: 'Killed' undeclared\n"]),
        None
    );
}
