#![allow(clippy::unwrap_used)]
use super::*;

fn touch(root: &Path, rel: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, "").unwrap();
}

/// A source tree and an out-of-tree build dir laid out like kbuild's.
fn fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("linux");
    let build = tmp.path().join("build");
    for f in [
        "kernel/sys.c",
        "include/linux/kconfig.h",
        "include/linux/sched.h",
        "arch/x86/include/asm/page.h",
        "Kconfig",
        "arch/x86/Kconfig",
        "scripts/basic/fixdep.c",
        "tools/objtool/arch/x86/orc.c",
        "tools/include/linux/types.h",
        "scripts/mod/modpost.h",
        "include/linux/module_symbol.h",
    ] {
        touch(&src, f);
    }
    touch(&build, "include/generated/autoconf.h");
    let s = src.display();
    let b = build.display();
    let write = |rel: &str, text: String| {
        let p = build.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "kernel/.sys.o.cmd",
        format!(
            "savedcmd_kernel/sys.o := gcc -Wp,-MMD,kernel/.sys.o.d -c -o kernel/sys.o {s}/kernel/sys.c\n\n\
             source_kernel/sys.o := {s}/kernel/sys.c\n\n\
             deps_kernel/sys.o := \\\n  {s}/include/linux/kconfig.h \\\n    $(wildcard include/config/CPU_BIG_ENDIAN) \\\n  \
             include/generated/autoconf.h \\\n  {s}/include/linux/sched.h \\\n  {s}/arch/x86/include/asm/page.h \\\n  \
             /usr/include/stdc-predef.h \\\n\nkernel/sys.o: $(deps_kernel/sys.o)\n\n$(deps_kernel/sys.o):\n"
        ),
    );
    write(
        "scripts/basic/.fixdep.cmd",
        format!(
            "savedcmd_scripts/basic/fixdep := gcc -o scripts/basic/fixdep {s}/scripts/basic/fixdep.c\n\nsource_scripts/basic/fixdep := {s}/scripts/basic/fixdep.c\n\ndeps_scripts/basic/fixdep := \\\n  /usr/include/stdio.h \\\n\n"
        ),
    );
    write(
        "scripts/mod/.modpost.o.cmd",
        format!(
            "deps_scripts/mod/modpost.o := \\\n  {s}/scripts/mod/modpost.h \\\n  {s}/scripts/mod/../../include/linux/module_symbol.h \\\n\n"
        ),
    );
    // objtool: paths relative to tools/objtool of the source tree.
    write(
        "tools/objtool/arch/x86/.orc.o.cmd",
        format!(
            "source_{b}/tools/objtool/arch/x86/orc.o := arch/x86/orc.c\n\ndeps_{b}/tools/objtool/arch/x86/orc.o := \\\n  {s}/tools/include/linux/types.h \\\n\n"
        ),
    );
    write(
        "include/config/auto.conf.cmd",
        "autoconfig := include/config/auto.conf\n\ndeps_config := \\\n\tKconfig \\\n\tarch/x86/Kconfig \\\n\n$(autoconfig): $(deps_config)\n$(deps_config): ;\n".into(),
    );
    // A link step: no source, no deps.
    write(
        ".vmlinux.cmd",
        "savedcmd_vmlinux := scripts/link-vmlinux.sh \"ld\"\n".into(),
    );
    (tmp, src, build)
}

#[test]
fn cmd_files_give_repo_relative_sources_headers_and_kconfig() {
    let (_tmp, src, build) = fixture();
    let used = FilesUsed::from_build_dir(&src, &build).unwrap();
    let got: Vec<&str> = used.0.iter().map(String::as_str).collect();
    assert_eq!(
        got,
        [
            "Kconfig",
            "arch/x86/Kconfig",
            "arch/x86/include/asm/page.h",
            "include/linux/kconfig.h",
            "include/linux/module_symbol.h",
            "include/linux/sched.h",
            "kernel/sys.c",
            "scripts/basic/fixdep.c",
            "scripts/mod/modpost.h",
            "tools/include/linux/types.h",
            "tools/objtool/arch/x86/orc.c",
        ]
    );
    assert_eq!(used.len(), 11);
    assert!(used.contains("kernel/sys.c") && !used.contains("kernel/fork.c"));
}

#[test]
fn may_affect_counts_the_build_system_in() {
    let (_tmp, src, build) = fixture();
    let used = FilesUsed::from_build_dir(&src, &build).unwrap();
    assert!(used.may_affect("kernel/sys.c"));
    assert!(used.may_affect("kernel/Makefile"));
    assert!(used.may_affect("drivers/net/Kconfig"));
    assert!(used.may_affect("arch/x86/Kbuild"));
    assert!(used.may_affect("scripts/link-vmlinux.sh"));
    assert!(!used.may_affect("Documentation/process/howto.rst"));
    assert!(!used.may_affect("drivers/net/ethernet/intel/e1000e/netdev.c"));
}

#[test]
fn in_tree_builds_skip_generated_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path();
    touch(src, "kernel/fork.c");
    touch(src, "include/generated/autoconf.h");
    touch(src, "arch/x86/include/generated/asm/orc_hash.h");
    std::fs::write(
        src.join("kernel/.fork.o.cmd"),
        "source_kernel/fork.o := kernel/fork.c\n\ndeps_kernel/fork.o := \\\n  include/generated/autoconf.h \\\n  arch/x86/include/generated/asm/orc_hash.h \\\n\n",
    )
    .unwrap();
    let used = FilesUsed::from_build_dir(src, src).unwrap();
    assert_eq!(used.0.iter().collect::<Vec<_>>(), ["kernel/fork.c"]);
}

#[test]
fn empty_or_missing_build_dirs() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(
        FilesUsed::from_build_dir(tmp.path(), tmp.path())
            .unwrap()
            .is_empty()
    );
    let e = FilesUsed::from_build_dir(tmp.path(), &tmp.path().join("nope")).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn normalize_is_lexical() {
    assert_eq!(
        normalize(Path::new("/a/b/../c/./d")),
        PathBuf::from("/a/c/d")
    );
    assert_eq!(normalize(Path::new("x/../../y")), PathBuf::from("y"));
}
