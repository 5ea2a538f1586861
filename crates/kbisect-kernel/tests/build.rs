//! `KernelBuild` end to end with a scripted `make` (the process boundary):
//! a real git tree and worktree, a fake kbuild that compiles a real ELF with
//! gcc, writes compile.h and a `.cmd` file, and misbehaves on demand.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use kbisect_git::{Repo, Worktree};
use kbisect_kernel::{
    ConfigCheck, ErrorKind, KernelBuild, KernelBuildRequest, KernelError, KernelOutcome,
    KernelSettings, ToolchainTable, vmlinux_signature,
};
use kbisect_testutil::TestRepo;

/// Behaviour comes from files of the revision being built:
/// `drops` (options olddefconfig removes), `broken` (a compile error),
/// `noop` (success without artifacts).
const FAKE_MAKE: &str = r#"#!/bin/sh
src=$2
build=${3#O=}
target=
for a in "$@"; do
  case $a in
    CC=*) cc=${a#CC=} ;;
    olddefconfig|bzImage) target=$a ;;
  esac
done
echo "$target|$cc" >> "$build/../calls"
case $target in
olddefconfig)
  if [ -f "$src/drops" ]; then
    grep -v -F -f "$src/drops" "$build/.config" > "$build/.config.new"
    mv "$build/.config.new" "$build/.config"
  fi
  ;;
bzImage)
  if [ -f "$src/broken" ]; then
    echo "  CC      kernel/main.o"
    echo "$src/main.c:2:1: error: expected ';' before '}' token" >&2
    echo "make[2]: *** [scripts/Makefile.build:229: kernel/main.o] Error 1" >&2
    exit 2
  fi
  [ -f "$src/noop" ] && exit 0
  mkdir -p "$build/arch/x86/boot" "$build/include/generated" "$build/kernel"
  if [ -f "$build/kernel/main.o" ]; then echo incremental >> "$build/../calls"; fi
  $cc -O2 -I"$src/include" -o "$build/vmlinux" "$src/main.c" || exit 2
  touch "$build/kernel/main.o"
  [ -f "$src/fixup.txt" ] && echo "fixup present" >> "$build/../calls"
  cp "$build/vmlinux" "$build/arch/x86/boot/bzImage"
  echo '#define LINUX_COMPILER "gcc (Fake) 1.0, GNU ld (Fake) 2.40"' > "$build/include/generated/compile.h"
  printf 'source_kernel/main.o := %s/main.c\n\ndeps_kernel/main.o := \\\n  %s/include/k.h \\\n  include/generated/compile.h \\\n\n' "$src" "$src" > "$build/kernel/.main.o.cmd"
  ;;
esac
"#;

const MAKEFILE: &str = "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 3\nEXTRAVERSION =\n";
const MAIN_C: &str = "#include \"k.h\"\nint main(void) { return K; }\n";
const CONFIG: &[u8] =
    b"CONFIG_64BIT=y\nCONFIG_WANTED=y\nCONFIG_LOCALVERSION_AUTO=y\n# CONFIG_KASAN is not set\n";

struct Fixture {
    repo: TestRepo,
    tmp: tempfile::TempDir,
    make: String,
}

impl Fixture {
    fn new() -> Fixture {
        let repo = TestRepo::new();
        repo.commit_file("Makefile", MAKEFILE, "Makefile");
        repo.commit_file("include/k.h", "#define K 0\n", "k.h");
        repo.commit_file("main.c", MAIN_C, "main");
        let tmp = tempfile::tempdir().unwrap();
        let make = tmp.path().join("fake-make");
        std::fs::write(&make, FAKE_MAKE).unwrap();
        std::fs::set_permissions(&make, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(tmp.path().join("build")).unwrap();
        Fixture {
            repo,
            make: make.display().to_string(),
            tmp,
        }
    }

    fn settings(&self, table: ToolchainTable) -> KernelSettings {
        let mut s = KernelSettings::new(table);
        s.make = self.make.clone();
        s.ccache = false;
        s.jobs = 2;
        s
    }

    fn build_dir(&self) -> PathBuf {
        self.tmp.path().join("build")
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("calls")).unwrap_or_default()
    }

    fn build(
        &self,
        kb: &KernelBuild,
        wt: &Worktree,
        repo: &Repo,
        out: &str,
    ) -> Result<KernelOutcome, KernelError> {
        let out_dir = self.tmp.path().join(out);
        kb.build(&KernelBuildRequest {
            source_dir: wt.path(),
            build_dir: &self.build_dir(),
            config: CONFIG,
            out_dir: &out_dir,
            git: Some((repo, wt)),
            cancel: None,
        })
    }
}

fn built(o: KernelOutcome) -> Box<kbisect_kernel::KernelArtifacts> {
    match o {
        KernelOutcome::Built(a) => a,
        KernelOutcome::Failed(f) => panic!("build failed: {f:?}"),
    }
}

fn worktree(f: &Fixture) -> (Repo, Worktree) {
    let repo = Repo::open(f.repo.path()).unwrap();
    let wt = Worktree::create(&repo, &f.tmp.path().join("wt")).unwrap();
    (repo, wt)
}

#[test]
fn builds_are_incremental_until_config_or_compiler_change() {
    let f = Fixture::new();
    let (repo, wt) = worktree(&f);
    let kb = KernelBuild::new(f.settings(ToolchainTable::builtin().unwrap()));
    let a = built(f.build(&kb, &wt, &repo, "out-a").unwrap());
    assert_eq!(
        a.cleaned.as_deref(),
        Some("no record of what it was built with")
    );
    assert_eq!(a.compiler, "gcc (Fake) 1.0");
    let v = kbisect_kernel::KernelVersion::from_makefile(MAKEFILE).unwrap();
    assert!(kb.compiler_id(&v).unwrap().starts_with("gcc ("));
    assert_eq!(a.toolchain.compiler, "gcc");
    assert_eq!(a.signature, vmlinux_signature(&a.vmlinux).unwrap());
    assert!(a.kernel_image.ends_with("out-a/bzImage") && a.kernel_image.is_file());
    assert_eq!(
        a.files_used.0.iter().collect::<Vec<_>>(),
        ["include/k.h", "main.c"]
    );
    // The job's config, with what keeps builds reproducible and the table's tweaks.
    let config = std::fs::read_to_string(&a.config).unwrap();
    assert!(config.contains("CONFIG_WANTED=y\n"));
    assert!(config.contains("# CONFIG_LOCALVERSION_AUTO is not set\n"));
    assert!(config.contains("# CONFIG_KCOV is not set\n"));
    assert!(std::fs::read_to_string(&a.log).unwrap().is_empty());

    // Same revision again: incremental, same binary.
    let b = built(f.build(&kb, &wt, &repo, "out-b").unwrap());
    assert_eq!(b.cleaned, None);
    assert_eq!(b.signature, a.signature);
    assert!(f.calls().contains("incremental"));

    // A code change gives another binary; a comment-only one does not.
    let code = f.repo.commit_file("include/k.h", "#define K 1\n", "K is 1");
    wt.checkout(&code.parse().unwrap()).unwrap();
    let c = built(f.build(&kb, &wt, &repo, "out-c").unwrap());
    assert_ne!(c.signature, a.signature);
    let comment = f
        .repo
        .commit_file("include/k.h", "#define K 1\n/* one */\n", "comment");
    wt.checkout(&comment.parse().unwrap()).unwrap();
    let d = built(f.build(&kb, &wt, &repo, "out-d").unwrap());
    assert_eq!(d.signature, c.signature);

    // Another config, another compiler command, or --clean-builds: clean.
    let mut s = f.settings(ToolchainTable::builtin().unwrap());
    s.disable = vec!["CONFIG_WANTED".into()];
    let e = built(
        f.build(&KernelBuild::new(s.clone()), &wt, &repo, "out-e")
            .unwrap(),
    );
    assert_eq!(e.cleaned.as_deref(), Some("config changed"));
    s.compiler = Some("cc".into());
    let g = built(
        f.build(&KernelBuild::new(s.clone()), &wt, &repo, "out-g")
            .unwrap(),
    );
    assert_eq!(g.cleaned.as_deref(), Some("cc, compiler changed"));
    assert!(f.calls().lines().any(|l| l == "bzImage|cc"));
    s.clean = true;
    let h = built(f.build(&KernelBuild::new(s), &wt, &repo, "out-h").unwrap());
    assert_eq!(h.cleaned.as_deref(), Some("clean builds requested"));
}

#[test]
fn failures_are_skips_with_the_error() {
    let f = Fixture::new();
    let (repo, wt) = worktree(&f);
    let kb = KernelBuild::new(f.settings(ToolchainTable::builtin().unwrap()));
    let broken = f.repo.commit_file("broken", "", "break the build");
    wt.checkout(&broken.parse().unwrap()).unwrap();
    let KernelOutcome::Failed(fail) = f.build(&kb, &wt, &repo, "out").unwrap() else {
        panic!("built")
    };
    assert_eq!(
        fail.title,
        "main.c:2:1: error: expected ';' before '}' token"
    );
    assert_eq!(fail.guilty_file.as_deref(), Some("main.c"));
    let log = std::fs::read_to_string(f.tmp.path().join("out/build.log")).unwrap();
    assert!(log.contains("  CC      kernel/main.o"), "{log}");

    // make says yes but leaves nothing: a failure, not a build.
    f.repo.git(&["rm", "-q", "broken"]);
    let noop = f.repo.commit_file("noop", "", "a make that builds nothing");
    wt.checkout(&noop.parse().unwrap()).unwrap();
    let mut s = f.settings(ToolchainTable::builtin().unwrap());
    s.clean = true;
    let KernelOutcome::Failed(fail) = f.build(&KernelBuild::new(s), &wt, &repo, "out2").unwrap()
    else {
        panic!("built")
    };
    assert_eq!(
        fail.title,
        "make succeeded but left no arch/x86/boot/bzImage"
    );
}

#[test]
fn options_olddefconfig_drops_are_a_setup_error() {
    let f = Fixture::new();
    let (repo, wt) = worktree(&f);
    let drops = f.repo.commit_file(
        "drops",
        "CONFIG_WANTED=y\nCONFIG_KCOV\n",
        "kconfig drops WANTED",
    );
    wt.checkout(&drops.parse().unwrap()).unwrap();
    let kb = KernelBuild::new(f.settings(ToolchainTable::builtin().unwrap()));
    let e = f.build(&kb, &wt, &repo, "out").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Setup);
    assert_eq!(
        e.to_string(),
        "make olddefconfig dropped options the kernel config asks for: CONFIG_WANTED=y became not set"
    );
    // Listed checks look only at what they list; Off checks nothing.
    let mut s = f.settings(ToolchainTable::builtin().unwrap());
    s.config_check = ConfigCheck::Listed(vec!["64BIT".into()]);
    built(
        f.build(&KernelBuild::new(s.clone()), &wt, &repo, "out2")
            .unwrap(),
    );
    s.config_check = ConfigCheck::Off;
    built(f.build(&KernelBuild::new(s), &wt, &repo, "out3").unwrap());
}

#[test]
fn fix_ups_are_applied_for_the_build_and_undone() {
    let f = Fixture::new();
    let old = f.repo.commit_file(
        "Makefile",
        "VERSION = 4\nPATCHLEVEL = 0\nSUBLEVEL = 9\nEXTRAVERSION =\n",
        "Linux 4.0.9",
    );
    f.repo.git(&["checkout", "-q", "-b", "fixes"]);
    let fix = f.repo.commit_file("fixup.txt", "fixed\n", "the fix-up");
    f.repo.git(&["checkout", "-q", "master"]);
    let table = ToolchainTable::with_user_text(
        &format!(
            "replace_defaults = true\n[[compiler]]\nfamily = \"gcc\"\nversion = \"default\"\n\
             [[tweak]]\nuntil = \"v4.1\"\ncherry_pick = [\"{fix}\"]\nwhy = \"boot fix\"\n"
        ),
        "test.toml",
    )
    .unwrap();
    let (repo, wt) = worktree(&f);
    wt.checkout(&old.parse().unwrap()).unwrap();
    let kb = KernelBuild::new(f.settings(table.clone()));
    let a = built(f.build(&kb, &wt, &repo, "out").unwrap());
    let picked: Vec<String> = a.cherry_picked.iter().map(|c| c.to_string()).collect();
    assert_eq!(picked, std::slice::from_ref(&fix));
    assert!(f.calls().contains("fixup present"));
    assert!(!wt.path().join("fixup.txt").exists(), "fix-up not undone");
    assert_eq!(wt.head().unwrap().to_string(), old);

    // A revision that already contains the fix gets nothing picked.
    f.repo
        .git(&["merge", "-q", "--no-ff", "-m", "merge fixes", "fixes"]);
    let merged = f.repo.head();
    wt.checkout(&merged.parse().unwrap()).unwrap();
    let b = built(f.build(&kb, &wt, &repo, "out2").unwrap());
    assert!(b.cherry_picked.is_empty());

    // A fix-up that does not apply to the revision: a skip, nothing left behind.
    f.repo.git(&["checkout", "-q", "-b", "fixes2", &old]);
    let fix2 = f
        .repo
        .commit_file("main.c", "int main(void) { return 2; }\n", "fix main");
    f.repo.git(&["checkout", "-q", "-b", "clash", &old]);
    let clash = f
        .repo
        .commit_file("main.c", "int main(void) { return 3; }\n", "clashing main");
    let table2 = ToolchainTable::with_user_text(
        &format!(
            "replace_defaults = true\n[[compiler]]\nfamily = \"gcc\"\nversion = \"default\"\n\
             [[tweak]]\nuntil = \"v4.1\"\ncherry_pick = [\"{fix}\", \"{fix2}\"]\n"
        ),
        "test.toml",
    )
    .unwrap();
    wt.checkout(&clash.parse().unwrap()).unwrap();
    let kb2 = KernelBuild::new(f.settings(table2));
    let KernelOutcome::Failed(fail) = f.build(&kb2, &wt, &repo, "out4").unwrap() else {
        panic!("built with a clashing fix-up")
    };
    assert_eq!(
        fail.title,
        format!("fix-up commit {} does not apply", &fix2[..12])
    );
    let status = f
        .repo
        .git(&["-C", wt.path().to_str().unwrap(), "status", "--porcelain"]);
    assert_eq!(status.trim(), "", "the first fix-up was not undone");

    // Without the worktree, fix-ups cannot be applied: a clear error.
    wt.checkout(&old.parse().unwrap()).unwrap();
    let e = kb
        .build(&KernelBuildRequest {
            source_dir: wt.path(),
            build_dir: &f.build_dir(),
            config: CONFIG,
            out_dir: &f.tmp.path().join("out3"),
            git: None,
            cancel: None,
        })
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("fix-up commit {fix}: fix-ups need kbisect's git worktree")
    );
}

#[test]
fn setup_errors_name_what_is_missing() {
    let f = Fixture::new();
    let (repo, wt) = worktree(&f);
    let mut s = f.settings(ToolchainTable::builtin().unwrap());
    s.make = "/nonexistent/make".into();
    let e = f
        .build(&KernelBuild::new(s), &wt, &repo, "out")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "/nonexistent/make not found: install it to build kernels"
    );
    let mut s = f.settings(ToolchainTable::builtin().unwrap());
    s.compiler = Some("kbisect-no-such-gcc".into());
    let e = f
        .build(&KernelBuild::new(s), &wt, &repo, "out")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Setup);
    assert!(
        e.to_string().starts_with("kbisect-no-such-gcc not found"),
        "{e}"
    );
    // An old kernel whose gcc is not installed.
    let current = f.repo.head();
    let old = f.repo.commit_file(
        "Makefile",
        "VERSION = 4\nPATCHLEVEL = 14\nSUBLEVEL = 0\nEXTRAVERSION =\n",
        "4.14",
    );
    wt.checkout(&old.parse().unwrap()).unwrap();
    let kb = KernelBuild::new(f.settings(ToolchainTable::builtin().unwrap()));
    let e = f.build(&kb, &wt, &repo, "out").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("kernel 4.14.0 needs gcc 8.1 (toolchain table)"),
        "{e}"
    );
    // Not a kernel tree at all.
    let e = kb.toolchain(Path::new("/")).unwrap_err();
    assert!(e.to_string().contains("/Makefile"), "{e}");
    // A build dir that is someone else's.
    wt.checkout(&current.parse().unwrap()).unwrap();
    let mut s = f.settings(ToolchainTable::builtin().unwrap());
    s.clean = true;
    let theirs = f.tmp.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("notes.txt"), "mine").unwrap();
    let e = KernelBuild::new(s)
        .build(&KernelBuildRequest {
            source_dir: wt.path(),
            build_dir: &theirs,
            config: CONFIG,
            out_dir: &f.tmp.path().join("out"),
            git: Some((&repo, &wt)),
            cancel: None,
        })
        .unwrap_err();
    assert!(e.to_string().contains("refusing to clean"), "{e}");
    assert!(theirs.join("notes.txt").exists());
}
