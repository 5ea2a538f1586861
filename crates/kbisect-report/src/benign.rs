//! Console lines that hold an oops header but are not crashes.
//!
//! A `WARNING:`, `INFO:` or `BUG:` prefix alone does not make a report: the
//! kernel also prints boot notices, deprecation notes, rate-limit notices and
//! user-space fault summaries that start the same way, and so do the fuzzer
//! and the programs it runs. Each entry says who prints the line and carries
//! an example written from the format string, which the tests below feed to
//! the parser to check that it is not detected.

/// One kind of benign line. (`source` and `example` document the entry and
/// feed the tests.)
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Benign {
    /// The oops header the line would otherwise be taken for.
    pub header: &'static str,
    /// Regexp matched against the line.
    pub line: &'static str,
    /// Who prints it (a kernel file, or the program).
    pub source: &'static str,
    /// The line as printed.
    pub example: &'static str,
}

const fn b(
    header: &'static str,
    line: &'static str,
    source: &'static str,
    example: &'static str,
) -> Benign {
    Benign {
        header,
        line,
        source,
        example,
    }
}

/// A rejected mount option echoed back, holding a header.
const OPTION_ECHO: &str = r"(?:[Uu]nknown parameter|[Uu]nrecognized mount option|[Uu]nknown mount option|[Bb]ad mount option|[Ii]nvalid mount option|[Uu]nknown option)[^\n]*(?:WARNING:|INFO:|BUG:|Kernel panic)";

#[rustfmt::skip]
pub(crate) static BENIGN: &[Benign] = &[
    // WARNING: — boot-time and sysctl-time mitigation notices (no stack).
    b("WARNING:", r"WARNING: Unprivileged eBPF is enabled with eIBRS", "arch/x86/kernel/cpu/bugs.c (also on the unprivileged_bpf_disabled sysctl)",
      "WARNING: Unprivileged eBPF is enabled with eIBRS on, data leaks possible via Spectre v2 BHB attacks!"),
    b("WARNING:", r"WARNING: [^\n]*(?:data leaks possible|may cause unnecessary performance loss|mitigation is only effective on|mitigation is not compatible with|mitigation depends on|mitigation is off, disabling)", "arch/x86/kernel/cpu/bugs.c",
      "WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, data leaks possible!"),
    b("WARNING:", r"WARNING: CPU does not support IBPB", "arch/x86/kernel/cpu/bugs.c",
      "WARNING: CPU does not support IBPB."),
    b("WARNING:", r"WARNING: retbleed=stuff depends on", "arch/x86/kernel/cpu/bugs.c",
      "WARNING: retbleed=stuff depends on spectre_v2=retpoline"),
    b("WARNING:", r"WARNING: See https://", "arch/x86/kernel/cpu/bugs.c (SRSO notice)",
      "Speculative Return Stack Overflow: WARNING: See https://kernel.org/doc/html/latest/admin-guide/hw-vuln/srso.html for mitigation options."),
    b("WARNING:", r"WARNING: kernel not compiled with", "arch/x86/kernel/cpu/bugs.c",
      "Speculative Return Stack Overflow: WARNING: kernel not compiled with MITIGATION_SRSO."),
    b("WARNING:", r"WARNING: polling idle and HT enabled", "arch/x86/kernel/process.c",
      "WARNING: polling idle and HT enabled, performance may degrade"),
    b("WARNING:", r"WARNING: BIOS bug:", "arch/x86/kernel/cpu/mtrr/cleanup.c",
      "WARNING: BIOS bug: CPU MTRRs don't cover all of memory, losing 1024MB of RAM."),
    b("WARNING:", r"WARNING: bogus zero IO-APIC address", "arch/x86/kernel/apic/io_apic.c",
      "WARNING: bogus zero IO-APIC address found in MPTABLE, disabling IO/APIC support!"),
    b("WARNING:", r"WARNING: 'bootconfig' found on the kernel command line", "init/main.c",
      "WARNING: 'bootconfig' found on the kernel command line but CONFIG_BOOT_CONFIG is not set."),
    b("WARNING:", r"WARNING: x1-x3 nonzero in violation of boot protocol", "arch/arm64/kernel/setup.c",
      "WARNING: x1-x3 nonzero in violation of boot protocol:"),
    // WARNING: — notices of deprecated or unusual use, printed once, no stack.
    b("WARNING:", r"WARNING: [Tt]he mand mount option", "fs/namespace.c",
      "WARNING: The mand mount option has been deprecated and"),
    b("WARNING:", r"WARNING: workqueue cpumask: online intersect > possible intersect", "kernel/workqueue.c",
      "WARNING: workqueue cpumask: online intersect > possible intersect"),
    b("WARNING:", r"WARNING: fbcon: Driver", "drivers/video/fbdev/core/fbcon.c",
      "WARNING: fbcon: Driver 'vkmsdrmfb' missed to adjust virtual screen size (0x0 vs. 128x16)"),
    b("WARNING:", r"(?i)uses deprecated v2 capabilities", "kernel/capability.c (lower case; some consoles upper-case it)",
      "CAPABILITY: WARNING: `SYZ.2.309' USES DEPRECATED V2 CAPABILITIES IN A WAY THAT MAY BE INSECURE"),
    b("WARNING:", r"(?i)uses wireless extensions", "net/wireless/wext-core.c (lower case; some consoles upper-case it)",
      "WARNING: `SYZ-EXECUTOR.0' USES WIRELESS EXTENSIONS WHICH WILL STOP WORKING FOR WI-FI 7 HARDWARE; USE NL80211"),
    b("WARNING:", r"WARNING: Domain '[^\n]*' has too many ACLs to hold", "security/tomoyo/util.c",
      "WARNING: Domain '<kernel> /sbin/init /usr/sbin/sshd' has too many ACLs to hold. Stopped learning mode."),
    b("WARNING:", r"WARNING: RTT is 0, returning maximum X_calc", "net/dccp/ccids/lib/tfrc_equation.c (DCCP_CRIT)",
      "WARNING: RTT is 0, returning maximum X_calc. at net/dccp/ccids/lib/tfrc_equation.c:623/tfrc_calc_x()"),
    b("WARNING:", r"WARNING: (?:Requested queue_map_m(?:in|ax)|trying to remove a running interface)", "net/core/pktgen.c",
      "WARNING: trying to remove a running interface, stopping it now"),
    // WARNING: — a subsystem's own message prefixed with its name.
    b("WARNING:", r"XFS \([^)]*\): WARNING", "fs/xfs/xfs_message.c (xfs_warn)",
      "XFS (loop4): WARNING: Reset corrupted AGFL on AG 0. 1 blocks leaked. Please unmount and run xfs_repair."),
    b("WARNING:", r"zonefs \([^)]*\) WARNING:", "fs/zonefs/zonefs.h (zonefs_warn)",
      "zonefs (nullb0) WARNING: Zone 3: inode size 4096 > zone size"),
    b("WARNING:", r"NFSD: WARNING:", "fs/nfsd/nfs4state.c",
      "NFSD: WARNING: refusing delegation reclaim"),
    b("WARNING:", r"Hardware name: [^\n]*WARNING", "lib/dump_stack.c (a BIOS string)",
      "Hardware name: WARNING: Unknown Vendor, BIOS 1.0"),
    // WARNING: — user-space programs on the console.
    b("WARNING:", r"WARNING: /etc/ssh/moduli does not exist", "sshd",
      "WARNING: /etc/ssh/moduli does not exist, using fixed modulus"),
    b("WARNING:", r"WARNING: Unsupported flag value", "ld.so (glibc)",
      "WARNING: Unsupported flag value(s) of 0x%x in DT_FLAGS_1."),
    b("WARNING:", r"WARNING: Read-only filesystem", "user-space init scripts",
      "WARNING: Read-only filesystem"),
    // Any header echoed back inside a mount option the filesystem rejects
    // (fs/fs_context.c "%s: Unknown parameter '%s'", the filesystems' own
    // "unrecognized mount option" messages): fuzzed options are random text.
    b("WARNING:", OPTION_ECHO, "fs/fs_context.c, fs/*/super.c (rejected mount options)",
      "ext4: Unknown parameter 'WARNING: CPU: 0 PID: 1 at x.c:1 f'"),
    b("INFO:", OPTION_ECHO, "fs/fs_context.c, fs/*/super.c (rejected mount options)",
      "EXT4-fs (loop0): Unrecognized mount option \"INFO: task\" or missing value"),
    b("BUG:", OPTION_ECHO, "fs/fs_context.c, fs/*/super.c (rejected mount options)",
      "fuse: Unknown parameter 'BUG: KASAN: slab-out-of-bounds'"),
    b("Kernel panic", OPTION_ECHO, "fs/fs_context.c, fs/*/super.c (rejected mount options)",
      "tmpfs: Unknown parameter 'Kernel panic - not syncing: x'"),
    // INFO:
    b("INFO:", r"INFO: lockdep is turned off", "kernel/locking/lockdep.c (lockdep_print_held_locks after a report)",
      "INFO: lockdep is turned off."),
    b("INFO:", r"INFO: Stall ended before state dump start", "kernel/rcu/tree_stall.h",
      "INFO: Stall ended before state dump start"),
    b("INFO:", r"INFO: NMI handler .* took too long to run", "arch/x86/kernel/nmi.c",
      "INFO: NMI handler (perf_event_nmi_handler) took too long to run: 1.234 msecs"),
    b("INFO:", r"INFO: recovery required on readonly filesystem", "fs/ext4/super.c",
      "EXT4-fs (loop0): INFO: recovery required on readonly filesystem"),
    b("INFO:", r"(?:Ext4|EXT4|ext4)[^\n]*INFO:", "fs/ext4/super.c (ext4_msg)",
      "EXT4-fs (sda1): INFO: recovery required on readonly filesystem"),
    b("INFO:", r"[A-Za-z_]INFO:", "drivers (\"CONT_INFO:\", \"BTF_INFO:\" and other tokens ending in INFO)",
      "[U] [1] INVALID BTF_INFO:72000001"),
    b("INFO:", r"[A-Z]+ INFO:\s*$", "net/nfc/hci/core.c (\"HARDWARE INFO:\", \"SOFTWARE INFO:\" headings)",
      "HARDWARE INFO:"),
    b("INFO:", r"INFO: sys_[^\n]* is not present in /proc/kallsyms", "syz-fuzzer (host feature detection, debug output)",
      "INFO: sys_clone3 is not present in /proc/kallsyms"),
    b("INFO:", r"INFO: no syscalls can create resource", "syz-fuzzer (debug output)",
      "INFO: no syscalls can create resource fd_bpf_map"),
    // BUG:
    b("BUG:", r"[A-Za-z]BUG:", "ODEBUG:, DEBUG:, Boot_DEBUG: (lib/debugobjects.c, Android init)",
      "ODEBUG: Out of memory. ODEBUG disabled"),
    b("BUG:", r"Oops - BUG: ", "arch/arm64/kernel/traps.c (the BUG() trap, reported under \"Internal error:\")",
      "Internal error: Oops - BUG: 00000000f2000800 [#1] PREEMPT SMP"),
    b("BUG:", r"BUG: no syscalls can create resource", "syz-fuzzer (debug output)",
      "BUG: no syscalls can create resource fd_bpf_map"),
    b("BUG:", r"BUG: [0-9 ]+unexpected failures \(out of", "lib/locking-selftest.c, arch/x86/kernel/nmi_selftest.c (boot self-tests)",
      "BUG:   2 unexpected failures (out of 262) - debugging disabled! |"),
    b("BUG:", r"BUG: arch topology borken", "kernel/sched/topology.c (boot)",
      "BUG: arch topology borken"),
    b("BUG:", r"BUG: not (?:creating|updating) mapping for", "arch/arm64/mm/mmu.c (boot)",
      "BUG: not creating mapping for 0x0000000080000000 at 0xffff000000000000 - outside kernel range"),
    b("BUG:", r"BUG: (?:ASN\.1 encoder failed|Boolean failed to encode|scratch buffer is too small|integer encode only supports|recode (?:tag|sequence) is too big)", "lib/asn1_encoder.c, security/keys/trusted-keys/trusted_tpm2.c (error returns)",
      "BUG: integer encode only supports positive integers"),
    // general protection fault: a user-space fault summary (show_signal()).
    b("general protection fault", r"general protection fault ip:", "arch/x86/kernel/traps.c (show_signal, user mode)",
      "traps: syz-executor.0[5012] general protection fault ip:7f1c2a0b1234 sp:7ffd3a2b1c40 error:0 in libc.so.6[7f1c2a000000+195000]"),
    // Alignment trap: a user-mode alignment fixup notice (arm).
    b("Alignment trap:", r"Alignment trap: [^\n]* \([0-9]+\) PC=0x", "arch/arm/mm/alignment.c (user mode, UM_WARN)",
      "Alignment trap: syz-executor (1234) PC=0x00012345 Instr=0xe5912004 Address=0x20000003 FSR 0x001"),
    // Internal error: a subsystem's own error message.
    b("Internal error:", r"CacheFiles: Internal error:", "fs/cachefiles/namei.c",
      "CacheFiles: Internal error: -22"),
    // fatal error: the kernel's own, not the Go runtime's.
    b("fatal error: ", r"ALSA", "sound/core/seq/seq_timer.c",
      "ALSA: seq fatal error: cannot create timer (-19)"),
    // Booting the kernel: fuzzed mount options echo random strings.
    b("Booting the kernel.", r"Unknown parameter", "fs/fs_context.c (invalf)",
      "fuseblk: Unknown parameter 'Decompressing Linux... Parsing ELF... done. Booting the kernel.'"),
    b("Booting the kernel.", r"'[^']*Booting the kernel", "filesystem option parsers",
      "ntfs3: Unknown option 'Booting the kernel.'"),
    // panic: Go panics only; kernel lines that contain "panic:".
    b("panic: ", r"Kernel panic", "kernel/panic.c (its own header, on old kernels without \"- not syncing\")",
      "Kernel panic: Fatal exception"),
    b("panic: ", r"panic: (?:corrupted stack end|stack is corrupted|Fatal exception|sysrq triggered)", "kernel titles quoted by tools",
      "kernel panic: Fatal exception"),
    b("panic: ", r"skb_.*_panic", "net/core/skbuff.c (skb_panic)",
      "skbuff: skb_over_panic: text:ffffffff8a1b2c3d len:4 put:4"),
    b("panic: ", r"panic: text:", "net/core/skbuff.c (skb_panic)",
      "skbuff: skb_under_panic: text:ffffffff8a1b2c3d len:4 put:4"),
    b("panic: ", r"_panic:", "kernel functions named *_panic",
      "reiserfs_panic: something"),
    b("panic: ", r"xlog_status:|ddb\.onpanic:|evtlog_status:", "Android and BSD boot logs",
      "xlog_status: enable:1, panic: 1, dump:2"),
];

/// The benign lines for one header, as regexps.
pub(crate) fn for_header(header: &str) -> impl Iterator<Item = &'static str> + '_ {
    BENIGN
        .iter()
        .filter(move |b| b.header == header)
        .map(|b| b.line)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{Config, Reporter};

    #[test]
    fn no_benign_line_is_a_crash() {
        let r = Reporter::new(&Config::default()).unwrap();
        for b in BENIGN {
            let line = format!("[  100.000001][ T4242] {}", b.example);
            assert!(
                crate::console::contains(b.example.as_bytes(), b.header.as_bytes()),
                "the example must hold the header it is benign for: {}",
                b.example
            );
            let taken_for = r.match_line(line.as_bytes()).map(|i| r.oopses[i].header);
            assert_ne!(
                taken_for,
                Some(b.header.as_bytes()),
                "benign line from {} taken for a {:?} crash: {}",
                b.source,
                b.header,
                b.example
            );
            // A few are benign for one header because they are the header
            // of another report (arm64's "Internal error: Oops - BUG:").
            let other_report = ["Internal error:", "Kernel panic"]
                .iter()
                .any(|h| b.example.starts_with(h));
            if !other_report {
                let log = format!("{line}\n");
                assert!(!r.contains_crash(log.as_bytes()), "{}", b.example);
            }
        }
    }

    #[test]
    fn every_entry_matches_its_example() {
        for b in BENIGN {
            let re = crate::oops_table::compile(b.line).unwrap();
            assert!(re.is_match(b.example.as_bytes()), "{}", b.line);
        }
    }
}
