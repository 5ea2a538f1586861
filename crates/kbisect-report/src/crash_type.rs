//! The type of a crash from its title: a pure function of the title's prefix.

pub use kbisect_crash::CrashType;

/// How a title prefix maps to a type. Ordered: the first matching row wins,
/// so more specific prefixes come before the general ones.
const TITLE_TYPES: &[(&str, CrashType)] = &[
    ("KASAN: invalid-free", CrashType::KasanInvalidFree),
    ("KASAN: double-free", CrashType::KasanInvalidFree),
    ("KMSAN: uninit-value", CrashType::KmsanUninitValue),
    ("KMSAN: kernel-infoleak", CrashType::KmsanInfoLeak),
    ("KMSAN: kernel-usb-infoleak", CrashType::KmsanInfoLeak),
    ("KMSAN: use-after-free", CrashType::KmsanUseAfterFreeRead),
    ("KMSAN: ", CrashType::KmsanUnknown),
    (
        "KFENCE: use-after-free read",
        CrashType::KfenceUseAfterFreeRead,
    ),
    (
        "KFENCE: use-after-free write",
        CrashType::KfenceUseAfterFreeWrite,
    ),
    ("KFENCE: out-of-bounds read", CrashType::KfenceRead),
    ("KFENCE: out-of-bounds write", CrashType::KfenceWrite),
    ("KFENCE: invalid read", CrashType::KfenceRead),
    ("KFENCE: invalid write", CrashType::KfenceWrite),
    ("KFENCE: invalid free", CrashType::KfenceInvalidFree),
    (
        "KFENCE: memory corruption",
        CrashType::KfenceMemoryCorruption,
    ),
    ("KCSAN: data-race", CrashType::KcsanDataRace),
    ("KCSAN: assert", CrashType::KcsanAssert),
    ("KCSAN: ", CrashType::KcsanUnknown),
    (
        "BUG: unable to handle kernel NULL pointer dereference",
        CrashType::NullPointerDereference,
    ),
    (
        "BUG: unable to handle kernel paging request",
        CrashType::MemorySafetyBug,
    ),
    ("BUG: corrupted list", CrashType::MemorySafetyBug),
    (
        "UBSAN: array-index-out-of-bounds",
        CrashType::MemorySafetyUbsan,
    ),
    ("UBSAN: ", CrashType::Ubsan),
    ("BUG: scheduling while atomic", CrashType::AtomicSleep),
    (
        "BUG: sleeping function called from invalid context",
        CrashType::AtomicSleep,
    ),
    ("BUG: bad usercopy", CrashType::Bug),
    ("kernel BUG", CrashType::Bug),
    ("BUG: soft lockup", CrashType::Hang),
    ("INFO: rcu detected stall", CrashType::Hang),
    ("INFO: task hung", CrashType::Hang),
    ("INFO: task can't die", CrashType::Hang),
    ("memory leak in", CrashType::MemoryLeak),
    ("possible deadlock", CrashType::Lockdep),
    ("inconsistent lock state", CrashType::Lockdep),
    ("BUG: bad unlock balance", CrashType::Lockdep),
    ("BUG: held lock freed", CrashType::Lockdep),
    ("BUG: spinlock ", CrashType::Lockdep),
    ("BUG: rwlock ", CrashType::Lockdep),
    ("BUG: still has locks held", CrashType::Lockdep),
    ("BUG: using __this_cpu_", CrashType::Lockdep),
    ("BUG: using smp_processor_id", CrashType::Lockdep),
    ("WARNING: bad unlock balance", CrashType::Lockdep),
    ("WARNING: held lock freed", CrashType::Lockdep),
    ("WARNING: lock held when returning", CrashType::Lockdep),
    ("WARNING: locking bug", CrashType::Lockdep),
    ("WARNING: nested lock was not taken", CrashType::Lockdep),
    ("WARNING: still has locks held", CrashType::Lockdep),
    ("WARNING: suspicious RCU usage in", CrashType::Lockdep),
    ("WARNING: refcount bug", CrashType::RefcountWarning),
    ("WARNING: kernel stack regs", CrashType::Unknown),
    ("WARNING: kernel stack frame", CrashType::Unknown),
    ("WARNING", CrashType::Warning),
    ("general protection fault", CrashType::DoS),
    ("kernel panic:", CrashType::DoS),
    ("divide error", CrashType::DoS),
    ("invalid opcode", CrashType::DoS),
    ("stack segment", CrashType::DoS),
    ("PANIC: double fault", CrashType::DoS),
    ("Internal error", CrashType::DoS),
    ("Unhandled fault", CrashType::DoS),
    ("Alignment trap", CrashType::DoS),
    ("int3", CrashType::DoS),
    ("VFS: Busy inodes", CrashType::DoS),
    ("VFS: Close: file count is zero", CrashType::DoS),
    ("go runtime error", CrashType::DoS),
    ("panic:", CrashType::DoS),
    ("trusty: ", CrashType::DoS),
    ("BUG: Object already free", CrashType::DoS),
    ("unexpected kernel reboot", CrashType::UnexpectedReboot),
    ("SYZFAIL:", CrashType::SyzFailure),
    ("SYZFATAL:", CrashType::SyzFailure),
    ("lost connection to test machine", CrashType::LostConnection),
    ("no output from test machine", CrashType::NoOutput),
    ("timed out", CrashType::Timeout),
];

/// The type of a crash, a pure function of its (final) title.
pub fn crash_type_of_title(title: &str) -> CrashType {
    if let Some(rest) = title.strip_prefix("KASAN: ") {
        return kasan_type(rest);
    }
    TITLE_TYPES
        .iter()
        .find(|(p, _)| title.starts_with(p))
        .map(|(_, t)| t.clone())
        .unwrap_or_default()
}

fn kasan_type(rest: &str) -> CrashType {
    let kind = rest.split(' ').next().unwrap_or("");
    let write = rest.contains(" Write in ") || rest.contains(" Write ");
    if kind.contains("invalid-free") || kind.contains("double-free") {
        CrashType::KasanInvalidFree
    } else if kind == "null-ptr-deref" {
        if write {
            CrashType::KasanNullPointerDereferenceWrite
        } else {
            CrashType::KasanNullPointerDereferenceRead
        }
    } else if kind.contains("use-after-free") {
        if write {
            CrashType::KasanUseAfterFreeWrite
        } else {
            CrashType::KasanUseAfterFreeRead
        }
    } else if write {
        CrashType::KasanWrite
    } else {
        CrashType::KasanRead
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_of_titles() {
        assert_eq!(
            crash_type_of_title("KASAN: slab-use-after-free Read in f"),
            CrashType::KasanUseAfterFreeRead
        );
        assert_eq!(
            crash_type_of_title("KASAN: slab-out-of-bounds Write in f"),
            CrashType::KasanWrite
        );
        assert_eq!(crash_type_of_title("WARNING in f"), CrashType::Warning);
        assert_eq!(crash_type_of_title("INFO: task hung in f"), CrashType::Hang);
        assert_eq!(
            crash_type_of_title("BUG: Bad page state in f"),
            CrashType::Unknown
        );
        assert_eq!(
            crash_type_of_title("lost connection to test machine"),
            CrashType::LostConnection
        );
    }
}
