//! The crash taxonomy kbisect's engine and console parser share (as
//! syzkaller keeps it in `pkg/report/crash`): the engine classifies runs by
//! crash type without depending on the parser that produces them.
//!
//! Names are syzkaller's, so expected results and persisted evidence compare
//! as strings.
//!
//! ```
//! use kbisect_crash::CrashType;
//! assert_eq!("KASAN-READ".parse::<CrashType>().unwrap(), CrashType::KasanRead);
//! assert_eq!(CrashType::Hang.to_string(), "HANG");
//! ```

#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

/// The kind of a crash. `Display` gives the canonical name (the corpus'
/// `TYPE:` header); `FromStr` accepts any name, unknown ones land in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum CrashType {
    #[default]
    /// A crash whose title says nothing more specific.
    Unknown,
    /// A task hung, a soft lockup or an RCU stall.
    Hang,
    /// A fault that takes the machine down (GPF, panic, invalid opcode, ...).
    DoS,
    /// A `WARNING:` splat (`WARN_ON` and friends).
    Warning,
    /// A `BUG:`/`kernel BUG` assertion.
    Bug,
    /// A locking problem found by lockdep.
    Lockdep,
    /// Sleeping in atomic context.
    AtomicSleep,
    /// A leak found by kmemleak.
    MemoryLeak,
    /// A bad memory access found without a sanitizer (paging request, corrupted list).
    MemorySafetyBug,
    /// An out-of-bounds access found by UBSAN.
    MemorySafetyUbsan,
    /// A NULL pointer dereference.
    NullPointerDereference,
    /// A refcount underflow/overflow warning.
    RefcountWarning,
    /// Undefined behaviour found by UBSAN.
    Ubsan,
    /// A KASAN out-of-bounds (or other) read.
    KasanRead,
    /// A KASAN out-of-bounds (or other) write.
    KasanWrite,
    /// A KASAN use-after-free read.
    KasanUseAfterFreeRead,
    /// A KASAN use-after-free write.
    KasanUseAfterFreeWrite,
    /// A KASAN invalid or double free.
    KasanInvalidFree,
    /// A KASAN null-ptr-deref read.
    KasanNullPointerDereferenceRead,
    /// A KASAN null-ptr-deref write.
    KasanNullPointerDereferenceWrite,
    /// A KASAN report of another kind.
    KasanUnknown,
    /// KMSAN: use of an uninitialised value.
    KmsanUninitValue,
    /// KMSAN: uninitialised kernel memory leaked to user space or a device.
    KmsanInfoLeak,
    /// KMSAN: use-after-free read.
    KmsanUseAfterFreeRead,
    /// A KMSAN report of another kind.
    KmsanUnknown,
    /// KFENCE: out-of-bounds or invalid read.
    KfenceRead,
    /// KFENCE: out-of-bounds or invalid write.
    KfenceWrite,
    /// KFENCE: use-after-free read.
    KfenceUseAfterFreeRead,
    /// KFENCE: use-after-free write.
    KfenceUseAfterFreeWrite,
    /// KFENCE: invalid free.
    KfenceInvalidFree,
    /// KFENCE: memory corruption.
    KfenceMemoryCorruption,
    /// KCSAN: data race.
    KcsanDataRace,
    /// KCSAN: assertion failure.
    KcsanAssert,
    /// A KCSAN report of another kind.
    KcsanUnknown,
    /// The machine rebooted when it should not have.
    UnexpectedReboot,
    /// The fuzzer's own failure (`SYZFAIL:`/`SYZFATAL:`).
    SyzFailure,
    /// The test machine went away while the reproducer ran (made by the tester).
    LostConnection,
    /// The test machine printed nothing for too long (made by the tester).
    NoOutput,
    /// The run exceeded its time limit (made by the tester).
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
}
