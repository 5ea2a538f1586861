//! Commit identifiers: full lowercase hex, validated once at the boundary.

use std::fmt;
use std::str::FromStr;

use crate::error::GitError;

/// A full commit hash (40 hex digits for SHA-1, 64 for SHA-256), lowercase.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct CommitId(String);

impl CommitId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 12-digit abbreviation used in logs (what syzbot prints).
    pub fn short(&self) -> &str {
        &self.0[..12]
    }

    /// For text git printed itself: still validated, because a parse bug
    /// must not turn into a bogus id silently.
    pub(crate) fn from_git(s: &str) -> Result<CommitId, GitError> {
        s.parse()
    }
}

fn is_full_hex(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FromStr for CommitId {
    type Err = GitError;

    /// Accepts upper case too (users paste hashes) and stores lower case.
    fn from_str(s: &str) -> Result<CommitId, GitError> {
        let lower = s.to_ascii_lowercase();
        if is_full_hex(&lower) {
            Ok(CommitId(lower))
        } else {
            Err(GitError::parse(
                "commit id",
                format!("{s:?} is not a full 40 or 64 digit hex hash"),
            ))
        }
    }
}

impl TryFrom<String> for CommitId {
    type Error = GitError;

    fn try_from(s: String) -> Result<CommitId, GitError> {
        s.parse()
    }
}

impl From<CommitId> for String {
    fn from(id: CommitId) -> String {
        id.0
    }
}

impl fmt::Display for CommitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CommitId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let h = "ABCDEF0123456789abcdef0123456789abcdef01";
        let id: CommitId = h.parse().unwrap();
        assert_eq!(id.as_str(), h.to_ascii_lowercase());
        assert_eq!(id.short(), "abcdef012345");
        assert_eq!(id.to_string(), h.to_ascii_lowercase());
        assert!("abc".parse::<CommitId>().is_err());
        assert!("g".repeat(40).parse::<CommitId>().is_err());
        assert!("a".repeat(64).parse::<CommitId>().is_ok());
        assert!("a".repeat(41).parse::<CommitId>().is_err());
    }

    #[test]
    fn serde_validates() {
        let id: CommitId = serde_json::from_str(&format!("\"{}\"", "1".repeat(40))).unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            format!("\"{}\"", "1".repeat(40))
        );
        assert!(serde_json::from_str::<CommitId>("\"xyz\"").is_err());
    }
}
