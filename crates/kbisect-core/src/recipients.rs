//! Who to tell about a culprit: its author and the people in its trailers.
//! (Maintainers from the tree's MAINTAINERS file are added by the kernel
//! backend when there are two or fewer.)

use std::collections::BTreeSet;

use kbisect_git::Commit;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
/// Who to tell, sorted and de-duplicated.
pub struct Recipients {
    /// Addressed directly.
    pub to: Vec<String>,
    /// Copied.
    pub cc: Vec<String>,
}

/// Trailers whose people took part in the change. `Cc:` only asked to be
/// told, so it does not count.
fn counts(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    matches!(
        k.as_str(),
        "signed-off-by" | "reviewed-by" | "acked-by" | "tested-by"
    ) || (k.ends_with("-by") && k.contains("-and-") && !k.starts_with("cc"))
}

/// The address in `Name <addr>` or a bare `addr`, lowercased.
pub fn address(s: &str) -> Option<String> {
    let s = s.trim();
    let addr = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s.split_whitespace().find(|w| w.contains('@')).unwrap_or(""),
    };
    let addr = addr.trim().to_ascii_lowercase();
    (addr.contains('@') && !addr.contains(' ')).then_some(addr)
}

/// All "to", sorted and de-duplicated; never the stable list.
pub fn recipients(commit: &Commit) -> Recipients {
    let mut to = BTreeSet::new();
    if let Some(a) = address(&commit.author_email) {
        to.insert(a);
    }
    for (k, v) in &commit.trailers {
        if counts(k)
            && let Some(a) = address(v)
        {
            to.insert(a);
        }
    }
    to.remove("stable@vger.kernel.org");
    Recipients {
        to: to.into_iter().collect(),
        cc: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            address("Song Liu <SongLiu@fb.com>").as_deref(),
            Some("songliu@fb.com")
        );
        assert_eq!(address("ast@kernel.org").as_deref(), Some("ast@kernel.org"));
        assert_eq!(address("nobody"), None);
        assert!(counts("Co-developed-and-reviewed-by") || !counts("Cc"));
        assert!(!counts("Cc"));
        assert!(counts("Signed-off-by"));
    }
}
