//! Scripted fake qemu programs for the qemu tester's tests: what firmware,
//! a kernel and kbisect's init print, as shell snippets to combine.

use std::path::{Path, PathBuf};

use kbisect_core::{Crash, RunOutcome};
use kbisect_vm::qemu::RunReport;
use kbisect_vm::{QemuTesterConfig, Reproducer};

use super::*;

/// What the firmware and an early kernel print, escape sequences included.
pub const PREAMBLE: &str = r#"printf '\033c\033[?7l\033[2J\033[0mSeaBIOS (version 1.16.2)\r\n'
printf '[    0.000000] Linux version 6.12.0 (fake)\r\n'
printf '[    1.000000] Run /init as init process\r\n'
"#;

pub const BASIC: &str = r#"printf 'kbisect-init: trivial program ran\r\nKBISECT-BASIC-OK\r\nKBISECT-REPRO-START: 1000 ms\r\n'
"#;

pub const WARN: &str = r#"cat <<'EOF'
[    2.000001] ------------[ cut here ]------------
[    2.000002] WARNING: CPU: 0 PID: 42 at fs/open.c:1400 do_sys_openat2+0x10/0x20
[    2.000003] Modules linked in:
[    2.000004] CPU: 0 UID: 0 PID: 42 Comm: repro Not tainted 6.12.0 #1
[    2.000005] RIP: 0010:do_sys_openat2+0x10/0x20
[    2.000006] Call Trace:
[    2.000007]  <TASK>
[    2.000008]  __x64_sys_openat+0x1/0x2
[    2.000009]  do_syscall_64+0x1/0x2
[    2.000010]  entry_SYSCALL_64_after_hwframe+0x1/0x2
[    2.000011]  </TASK>
[    2.000012] ---[ end trace 0000000000000000 ]---
[    2.000013] Kernel panic - not syncing: kernel: panic_on_warn set ...
EOF
"#;

pub const END: &str = r#"printf 'KBISECT-REPRO-TIMEOUT: 1000 ms\r\nKBISECT-END\r\n[    3.000000] reboot: Restarting system\r\n'
"#;

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Option<Env> {
        if !have("gcc") {
            skip("fake_qemu", "gcc not found");
            return None;
        }
        Some(Env {
            dir: tempfile::tempdir().unwrap(),
        })
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// A file standing for the kernel image (the fakes never read it).
    pub fn kernel(&self) -> PathBuf {
        let k = self.path("bzImage");
        std::fs::write(&k, b"not a kernel").unwrap();
        k
    }

    pub fn qemu(&self, body: &str) -> PathBuf {
        script(self.dir.path(), "fake-qemu", body)
    }

    /// The quick limits with the clean reproducer.
    pub fn cfg(&self, qemu: &Path) -> QemuTesterConfig {
        let repro = c_source(self.dir.path(), "repro.c", CLEAN_REPRO);
        quick_config(qemu, Reproducer::CSource(repro), &self.path("cache"))
    }

    pub fn one(&self, cfg: QemuTesterConfig) -> RunReport {
        let t = tester(cfg);
        let mut r = run(&t, &self.kernel(), &self.path("logs"), &[3]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].index, 3);
        r.remove(0)
    }
}

pub fn crashed(o: &RunOutcome) -> &Crash {
    match o {
        RunOutcome::Crashed(c) => c,
        o => panic!("expected a crash, got {o:?}"),
    }
}
