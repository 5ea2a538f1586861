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
    (CrashType::MemoryLeak, "LEAK", &["MEMORY-LEAK", "MEMORY_LEAK"]),
    (CrashType::MemorySafetyBug, "MEMORY_SAFETY_BUG", &[]),
    (CrashType::MemorySafetyUbsan, "MEMORY_SAFETY_UBSAN", &[]),
    (CrashType::NullPointerDereference, "NULL-POINTER-DEREFERENCE", &[]),
    (CrashType::RefcountWarning, "REFCOUNT_WARNING", &[]),
    (CrashType::Ubsan, "UBSAN", &[]),
    (CrashType::KasanRead, "KASAN-READ", &["KASAN_READ"]),
    (CrashType::KasanWrite, "KASAN-WRITE", &["KASAN_WRITE"]),
    (CrashType::KasanUseAfterFreeRead, "KASAN-USE-AFTER-FREE-READ", &[]),
    (CrashType::KasanUseAfterFreeWrite, "KASAN-USE-AFTER-FREE-WRITE", &[]),
    (CrashType::KasanInvalidFree, "KASAN-INVALID-FREE", &[]),
    (CrashType::KasanNullPointerDereferenceRead, "KASAN-NULL-POINTER-DEREFERENCE-READ", &[]),
    (CrashType::KasanNullPointerDereferenceWrite, "KASAN-NULL-POINTER-DEREFERENCE-WRITE", &[]),
    (CrashType::KasanUnknown, "KASAN-UNKNOWN", &[]),
    (CrashType::KmsanUninitValue, "KMSAN-UNINIT-VALUE", &[]),
    (CrashType::KmsanInfoLeak, "KMSAN-INFO-LEAK", &[]),
    (CrashType::KmsanUseAfterFreeRead, "KMSAN-USE-AFTER-FREE-READ", &[]),
    (CrashType::KmsanUnknown, "KMSAN-UNKNOWN", &[]),
    (CrashType::KfenceRead, "KFENCE-READ", &[]),
    (CrashType::KfenceWrite, "KFENCE-WRITE", &[]),
    (CrashType::KfenceUseAfterFreeRead, "KFENCE-USE-AFTER-FREE-READ", &[]),
    (CrashType::KfenceUseAfterFreeWrite, "KFENCE-USE-AFTER-FREE-WRITE", &[]),
    (CrashType::KfenceInvalidFree, "KFENCE-INVALID-FREE", &[]),
    (CrashType::KfenceMemoryCorruption, "KFENCE-MEMORY-CORRUPTION", &[]),
    (CrashType::KcsanDataRace, "KCSAN-DATARACE", &[]),
    (CrashType::KcsanAssert, "KCSAN-ASSERT", &[]),
    (CrashType::KcsanUnknown, "KCSAN-UNKNOWN", &[]),
    (CrashType::UnexpectedReboot, "REBOOT", &[]),
    (CrashType::SyzFailure, "SYZ_FAILURE", &["SYZ-FAILURE", "SYZFATAL", "SYZFAIL"]),
    (CrashType::LostConnection, "LOST_CONNECTION", &["LOST-CONNECTION"]),
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
        assert_eq!("X".parse::<CrashType>().unwrap(), CrashType::Other("X".into()));
    }
}
