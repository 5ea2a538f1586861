//! The qemu tester's settings and the qemu command line they make.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::console::{DEFAULT_LOG_CAP, ScanLimits};
use crate::qemu::guest::{CompileConfig, Reproducer};

/// The kernel command line by default: the console on the first serial
/// port, and every warning or oops turned into a panic that ends the machine
/// at once (`panic=-1` reboots immediately, which `-no-reboot` turns into
/// qemu's exit), so the report is the last thing on the console.
/// `earlyprintk` makes a kernel that dies before its console is up still say why.
pub const DEFAULT_CMDLINE: &str =
    "console=ttyS0 earlyprintk=serial panic_on_warn=1 oops=panic panic=-1";

/// Everything about the qemu tester: the reproducer, the machine, the
/// limits. [`QemuTesterConfig::new`] gives the defaults for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuTesterConfig {
    /// The reproducer run in every VM.
    pub reproducer: Reproducer,
    /// Where the compiled init and reproducer and the initramfs are kept
    /// (by content hash: shared by bisections, safe to delete).
    pub cache_dir: PathBuf,
    /// The emulator.
    pub qemu: PathBuf,
    /// `-accel` value: `tcg` here (no usable KVM), `kvm` where it works.
    pub accel: String,
    /// Guest memory (`-m`), MiB.
    pub memory_mib: u64,
    /// Guest CPUs (`-smp`).
    pub cpus: u32,
    /// The kernel command line (`-append`).
    pub cmdline: String,
    /// Extra qemu arguments, appended last.
    pub extra_args: Vec<String>,
    /// VMs at most at once (the job's VM slots).
    pub vm_slots: usize,
    /// Memory the VMs may take together, MiB (each takes its `-m` plus
    /// [`QEMU_OVERHEAD_MIB`]); `None`: three quarters of what the machine
    /// has available when the tester is made.
    pub memory_budget_mib: Option<u64>,
    /// How long the reproducer runs in the guest before init stops it.
    pub run_time: Duration,
    /// How long init waits after the reproducer for late reports.
    pub settle: Duration,
    /// From qemu's start to the basic-test marker.
    pub boot_timeout: Duration,
    /// Silence that makes "no output from test machine" (BISECTION.md: 5
    /// minutes, ×3 under emulation).
    pub idle_timeout: Duration,
    /// After the first crash line, how long to keep reading for the rest of
    /// the report before stopping the machine.
    pub crash_wait: Duration,
    /// After init's end marker, how long the machine may take to go away.
    pub end_wait: Duration,
    /// Margin on top of the run's planned time before it counts as "timed out".
    pub wall_slack: Duration,
    /// Time between SIGTERM and SIGKILL when qemu has to be stopped.
    pub grace: Duration,
    /// Bytes of console written to a run's log file; the rest is counted.
    pub console_cap: u64,
    /// What the crash scanner keeps in memory.
    pub scan: ScanLimits,
    /// How the init and the reproducer are compiled.
    pub compile: CompileConfig,
    /// The console parser's user additions (ignores, suppressions).
    pub parser: kbisect_report::Config,
}

impl QemuTesterConfig {
    /// The defaults for `reproducer`, caching compiled programs in `cache_dir`.
    pub fn new(reproducer: Reproducer, cache_dir: impl Into<PathBuf>) -> QemuTesterConfig {
        QemuTesterConfig {
            reproducer,
            cache_dir: cache_dir.into(),
            qemu: "qemu-system-x86_64".into(),
            accel: "tcg".into(),
            memory_mib: 512,
            cpus: 1,
            cmdline: DEFAULT_CMDLINE.into(),
            extra_args: Vec::new(),
            vm_slots: 1,
            memory_budget_mib: None,
            run_time: Duration::from_secs(300),
            settle: Duration::from_secs(1),
            boot_timeout: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(15 * 60),
            crash_wait: Duration::from_secs(30),
            end_wait: Duration::from_secs(30),
            wall_slack: Duration::from_secs(60),
            grace: Duration::from_secs(3),
            console_cap: DEFAULT_LOG_CAP,
            scan: ScanLimits::default(),
            compile: CompileConfig::default(),
            parser: kbisect_report::Config::default(),
        }
    }

    /// The wall-clock limit of one run: boot, then the reproducer's time or
    /// the idle timeout, whichever is longer (so silence is reported as
    /// such), then the waits, plus the slack.
    pub fn wall_timeout(&self) -> Duration {
        self.boot_timeout
            + (self.run_time + self.settle).max(self.idle_timeout)
            + self.crash_wait
            + self.end_wait
            + self.wall_slack
    }

    /// qemu's arguments for one run.
    pub fn qemu_args(&self, kernel: &Path, initramfs: &Path) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        let mut push = |s: &str| a.push(s.into());
        push("-accel");
        if self.accel == "tcg" && self.cpus > 1 {
            push("tcg,thread=multi");
        } else {
            push(&self.accel);
        }
        // No default devices: no NIC whose option ROM (iPXE) prints and
        // waits, no VGA; the serial port is added back explicitly. The
        // default machine, since `-machine microvm` reboots in a loop.
        for s in ["-nodefaults", "-no-user-config", "-display", "none"] {
            push(s);
        }
        push("-m");
        push(&self.memory_mib.to_string());
        push("-smp");
        push(&self.cpus.to_string());
        // The console on stdout through the process wrapper; no monitor, so
        // nothing the guest prints can reach one.
        for s in ["-serial", "stdio", "-monitor", "none", "-no-reboot"] {
            push(s);
        }
        a.push("-kernel".into());
        a.push(kernel.into());
        a.push("-initrd".into());
        a.push(initramfs.into());
        a.push("-append".into());
        a.push(self.cmdline.clone().into());
        a.extend(self.extra_args.iter().map(OsString::from));
        a
    }

    /// Memory one VM takes from the budget: its `-m` and qemu's own overhead.
    pub fn vm_memory_mib(&self) -> u64 {
        self.memory_mib + QEMU_OVERHEAD_MIB
    }

    /// The memory budget in force: the configured one, or three quarters of
    /// the memory available now.
    pub fn memory_budget(&self) -> u64 {
        self.memory_budget_mib
            .unwrap_or_else(|| available_memory_mib().map_or(4096, |m| m / 4 * 3))
    }
}

/// What a TCG qemu process may take beyond the guest's RAM (translation
/// cache, device state). Counting all of `-m` plus this is conservative: a
/// boot and run of a 512 MiB Debian guest peaked at 212 MiB resident here,
/// since a short run touches little of the guest's memory.
pub const QEMU_OVERHEAD_MIB: u64 = 128;

/// `MemAvailable` from `/proc/meminfo`, MiB.
pub fn available_memory_mib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> QemuTesterConfig {
        QemuTesterConfig::new(Reproducer::CSource("repro.c".into()), "/cache")
    }

    #[test]
    fn argv_has_the_console_kernel_and_no_reboot() {
        let c = QemuTesterConfig {
            cpus: 2,
            extra_args: vec!["-cpu".into(), "max".into()],
            ..config()
        };
        let a: Vec<String> = c
            .qemu_args(Path::new("/k/bzImage"), Path::new("/c/i.cpio"))
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect();
        let s = a.join(" ");
        assert!(s.starts_with("-accel tcg,thread=multi -nodefaults"), "{s}");
        assert!(
            s.contains("-m 512 -smp 2 -serial stdio -monitor none -no-reboot"),
            "{s}"
        );
        assert!(
            s.contains("-kernel /k/bzImage -initrd /c/i.cpio -append"),
            "{s}"
        );
        assert!(s.ends_with("-cpu max"), "{s}");
        let i = a.iter().position(|x| x == "-append").unwrap();
        assert!(a[i + 1].contains("panic_on_warn=1 oops=panic panic=-1"));
    }

    #[test]
    fn wall_timeout_leaves_room_for_silence() {
        let c = config();
        assert!(c.wall_timeout() > c.boot_timeout + c.idle_timeout);
        assert!(c.wall_timeout() > c.boot_timeout + c.run_time);
    }
}
