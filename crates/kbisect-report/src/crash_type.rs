//! Crash types: a pure function of the title, named as syzkaller names them so
//! that expected results and persisted evidence can be compared as strings.

use std::fmt;
use std::str::FromStr;

/// The kind of a crash. `Display` gives the canonical name (the corpus'
/// `TYPE:` header); `FromStr` accepts any name, unknown ones land in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum CrashType {
    #[default]
    Unknown,
    Hang,
    DoS,
    Warning,
    Bug,
    Lockdep,
    AtomicSleep,
    MemoryLeak,
    MemorySafetyBug,
    MemorySafetyUbsan,
    NullPointerDereference,
    RefcountWarning,
    Ubsan,
    KasanRead,
    KasanWrite,
    KasanUseAfterFreeRead,
    KasanUseAfterFreeWrite,
    KasanInvalidFree,
    KasanNullPointerDereferenceRead,
    KasanNullPointerDereferenceWrite,
    KasanUnknown,
    KmsanUninitValue,
    KmsanInfoLeak,
    KmsanUseAfterFreeRead,
    KmsanUnknown,
    KfenceRead,
    KfenceWrite,
    KfenceUseAfterFreeRead,
    KfenceUseAfterFreeWrite,
    KfenceInvalidFree,
    KfenceMemoryCorruption,
    KcsanDataRace,
    KcsanAssert,
    KcsanUnknown,
    UnexpectedReboot,
    SyzFailure,
    LostConnection,
    NoOutput,
    Timeout,
    /// A name this build does not know; kept verbatim.
    Other(String),
}

/// (variant, canonical name, extra accepted spellings)
const NAMES: &[(CrashType, &str, &[&str])] = &[
    (CrashType::Unknown, "UNKNOWN", &[""]),
    (CrashType::Hang, "HANG", &[]),
    (CrashType::DoS, "DoS", &[]),
    (CrashType::Warning, "WARNING", &[]),
    (CrashType::Bug, "BUG", &[]),
    (CrashType::Lockdep, "LOCKDEP", &[]),
    (CrashType::AtomicSleep, "ATOMIC_SLEEP", &[]),
    (
        CrashType::MemoryLeak,
        "LEAK",
        &["MEMORY-LEAK", "MEMORY_LEAK"],
    ),
    (CrashType::MemorySafetyBug, "MEMORY_SAFETY_BUG", &[]),
    (CrashType::MemorySafetyUbsan, "MEMORY_SAFETY_UBSAN", &[]),
    (
        CrashType::NullPointerDereference,
        "NULL-POINTER-DEREFERENCE",
        &[],
    ),
    (CrashType::RefcountWarning, "REFCOUNT_WARNING", &[]),
    (CrashType::Ubsan, "UBSAN", &[]),
    (CrashType::KasanRead, "KASAN-READ", &["KASAN_READ"]),
    (CrashType::KasanWrite, "KASAN-WRITE", &["KASAN_WRITE"]),
    (
        CrashType::KasanUseAfterFreeRead,
        "KASAN-USE-AFTER-FREE-READ",
        &[],
    ),
    (
        CrashType::KasanUseAfterFreeWrite,
        "KASAN-USE-AFTER-FREE-WRITE",
        &[],
    ),
    (CrashType::KasanInvalidFree, "KASAN-INVALID-FREE", &[]),
    (
        CrashType::KasanNullPointerDereferenceRead,
        "KASAN-NULL-POINTER-DEREFERENCE-READ",
        &[],
    ),
    (
        CrashType::KasanNullPointerDereferenceWrite,
        "KASAN-NULL-POINTER-DEREFERENCE-WRITE",
        &[],
    ),
    (CrashType::KasanUnknown, "KASAN-UNKNOWN", &[]),
    (CrashType::KmsanUninitValue, "KMSAN-UNINIT-VALUE", &[]),
    (CrashType::KmsanInfoLeak, "KMSAN-INFO-LEAK", &[]),
    (
        CrashType::KmsanUseAfterFreeRead,
        "KMSAN-USE-AFTER-FREE-READ",
        &[],
    ),
    (CrashType::KmsanUnknown, "KMSAN-UNKNOWN", &[]),
    (CrashType::KfenceRead, "KFENCE-READ", &[]),
    (CrashType::KfenceWrite, "KFENCE-WRITE", &[]),
    (
        CrashType::KfenceUseAfterFreeRead,
        "KFENCE-USE-AFTER-FREE-READ",
        &[],
    ),
    (
        CrashType::KfenceUseAfterFreeWrite,
        "KFENCE-USE-AFTER-FREE-WRITE",
        &[],
    ),
    (CrashType::KfenceInvalidFree, "KFENCE-INVALID-FREE", &[]),
    (
        CrashType::KfenceMemoryCorruption,
        "KFENCE-MEMORY-CORRUPTION",
        &[],
    ),
    (CrashType::KcsanDataRace, "KCSAN-DATARACE", &[]),
    (CrashType::KcsanAssert, "KCSAN-ASSERT", &[]),
    (CrashType::KcsanUnknown, "KCSAN-UNKNOWN", &[]),
    (CrashType::UnexpectedReboot, "REBOOT", &[]),
    (
        CrashType::SyzFailure,
        "SYZ_FAILURE",
        &["SYZ-FAILURE", "SYZFATAL", "SYZFAIL"],
    ),
    (
        CrashType::LostConnection,
        "LOST_CONNECTION",
        &["LOST-CONNECTION"],
    ),
    (CrashType::NoOutput, "NO_OUTPUT", &["NO-OUTPUT"]),
    (CrashType::Timeout, "TIMEOUT", &[]),
];

impl CrashType {
    /// The canonical name.
    pub fn name(&self) -> &str {
        if let CrashType::Other(s) = self {
            return s;
        }
        NAMES
            .iter()
            .find(|(t, _, _)| t == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("UNKNOWN")
    }
}

impl fmt::Display for CrashType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CrashType {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        for (t, name, alts) in NAMES {
            if *name == s || alts.contains(&s) {
                return Ok(t.clone());
            }
        }
        Ok(CrashType::Other(s.to_string()))
    }
}

impl serde::Serialize for CrashType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for CrashType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(s.parse().unwrap_or_default())
    }
}

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
    ("go runtime error", CrashType::DoS),
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
    fn names_round_trip() {
        for (t, name, alts) in NAMES {
            assert_eq!(t.to_string(), *name);
            assert_eq!(&name.parse::<CrashType>().unwrap(), t);
            for a in *alts {
                assert_eq!(&a.parse::<CrashType>().unwrap(), t);
            }
        }
        assert_eq!(
            "X".parse::<CrashType>().unwrap(),
            CrashType::Other("X".into())
        );
    }

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
