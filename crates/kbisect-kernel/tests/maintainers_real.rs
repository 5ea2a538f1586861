//! kbisect's MAINTAINERS reading against the kernel's own
//! `scripts/get_maintainer.pl` (no git, no mailmap) on the real 6.12 file.
//!
//! The tree is `$KBISECT_KERNEL_TREE` when set, else MAINTAINERS and the
//! script are taken from Debian's linux-source tarball
//! (`$KBISECT_KERNEL_TARBALL`, default /usr/src/linux-source-6.12.tar.xz).
//! Without either the test says it was skipped and passes.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use kbisect_kernel::{LKML, Maintainers};
use kbisect_proc::Cmd;

const FILES: &[&str] = &[
    "kernel/sys.c",
    "drivers/net/ethernet/intel/e1000e/netdev.c",
    "sound/core/init.c",
    "fs/ext4/super.c",
    "net/ipv4/tcp.c",
    "mm/page_alloc.c",
    "drivers/gpu/drm/drm_drv.c",
    "drivers/usb/core/hub.c",
    "arch/x86/kernel/cpu/common.c",
    "include/linux/sched.h",
    "Documentation/process/howto.rst",
    "kernel/bpf/verifier.c",
    "drivers/net/wireless/ath/ath9k/main.c",
    "tools/perf/builtin-record.c",
    "lib/string.c",
    "init/main.c",
    "drivers/input/input.c",
    "security/selinux/hooks.c",
    "fs/btrfs/inode.c",
    "kernel/sched/core.c",
    "drivers/tty/serial/8250/8250_core.c",
    "include/uapi/linux/prctl.h",
];

fn tree() -> Option<(PathBuf, Option<tempfile::TempDir>)> {
    if let Some(t) = std::env::var_os("KBISECT_KERNEL_TREE") {
        return Some((PathBuf::from(t), None));
    }
    let tarball = std::env::var_os("KBISECT_KERNEL_TARBALL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/src/linux-source-6.12.tar.xz"));
    if !tarball.is_file() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    Cmd::new("tar")
        .arg("-xJf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir.path())
        .args([
            "--strip-components=1",
            "--wildcards",
            "*/MAINTAINERS",
            "*/scripts/get_maintainer.pl",
        ])
        .timeout(Duration::from_secs(300))
        .run_checked()
        .unwrap();
    // get_maintainer.pl -f wants the files to exist.
    for f in FILES {
        let p = dir.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }
    Some((dir.path().to_owned(), Some(dir)))
}

/// get_maintainer.pl's lines as (address, role), names dropped (it quotes
/// some of them).
fn perl(tree: &Path, args: &[&str]) -> Vec<(String, String)> {
    let out = Cmd::new("perl")
        .arg("scripts/get_maintainer.pl")
        .args(["--no-tree", "--nogit", "--nogit-fallback", "--nomailmap"])
        .args(args)
        .cwd(tree)
        .timeout(Duration::from_secs(120))
        .run_checked()
        .unwrap();
    out.stdout_str()
        .lines()
        .map(|l| {
            // `Name <addr> (role)` or `addr (role)`; roles may hold parentheses.
            let (addr, rest) = match l.find('<') {
                Some(i) => {
                    let j = i + l[i..].find('>').unwrap();
                    (&l[i + 1..j], &l[j + 1..])
                }
                None => l.split_once(' ').unwrap(),
            };
            let role = rest
                .trim()
                .strip_prefix('(')
                .unwrap()
                .strip_suffix(')')
                .unwrap();
            (addr.to_owned(), role.to_owned())
        })
        .collect()
}

fn ours(m: &Maintainers, files: &[&str], patch: Option<&str>) -> Vec<(String, String)> {
    m.get_maintainers(files, patch)
        .into_iter()
        .map(|e| (e.address, e.role))
        .collect()
}

/// Sections of equal pattern depth come out in Perl's hash order, which is
/// random per run: compare as sorted lists (kbisect's order is file order).
fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

#[test]
fn same_answers_and_recipients_as_get_maintainer_pl() {
    let Some((tree, _keep)) = tree() else {
        eprintln!("skipped: no kernel tree (KBISECT_KERNEL_TREE) nor linux-source tarball");
        return;
    };
    let m = Maintainers::read(&tree).unwrap();
    assert!(m.sections.len() > 2000, "{} sections", m.sections.len());
    for f in FILES {
        assert_eq!(
            sorted(ours(&m, &[f], None)),
            sorted(perl(&tree, &["-f", f])),
            "for {f}"
        );
    }
    let two = [
        "net/ipv4/tcp.c",
        "drivers/net/ethernet/intel/e1000e/netdev.c",
    ];
    assert_eq!(
        sorted(ours(&m, &two, None)),
        sorted(perl(&tree, &["-f", two[0], "-f", two[1]]))
    );

    // A patch: the K: keywords (bpf) pull in sections the file does not.
    let patch = "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n\
        From: A <a@example.org>\nSubject: [PATCH] kernel/sys: tidy\n\n---\n\
        diff --git a/kernel/sys.c b/kernel/sys.c\n--- a/kernel/sys.c\n+++ b/kernel/sys.c\n\
        @@ -1,3 +1,3 @@\n context\n-\told();\n+\tbpf_prog_put(prog);\n";
    let p = tree.join("kbisect-test.patch");
    std::fs::write(&p, patch).unwrap();
    let want = perl(&tree, &[p.to_str().unwrap()]);
    std::fs::remove_file(&p).unwrap();
    assert!(
        want.iter().any(|(_, r)| r.contains(":Keyword:")),
        "{want:?}"
    );
    assert_eq!(
        sorted(ours(&m, &["kernel/sys.c"], Some(patch))),
        sorted(want)
    );

    // kernel/sys.c has no section but THE REST: only LKML, "to".
    let r = m.recipients(&["kernel/sys.c"], None);
    assert_eq!(r.to.iter().collect::<Vec<_>>(), [LKML]);
    assert!(r.cc.is_empty());
    // e1000e: Intel supporters, netdev maintainers and lists "to", LKML "cc".
    let r = m.recipients(&["drivers/net/ethernet/intel/e1000e/netdev.c"], None);
    for a in [
        "anthony.l.nguyen@intel.com",
        "kuba@kernel.org",
        "netdev@vger.kernel.org",
        "intel-wired-lan@lists.osuosl.org",
    ] {
        assert!(r.to.contains(a), "{a} not in {:?}", r.to);
    }
    assert!(r.cc.contains(LKML) && !r.to.contains(LKML));
}
