//! One multi-pattern pass over the output to find candidate header lines.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::Error;

pub(crate) struct Scanner {
    ac: AhoCorasick,
}

impl Scanner {
    pub(crate) fn new<'a>(headers: impl Iterator<Item = &'a [u8]>) -> Result<Scanner, Error> {
        let mut pats: Vec<&[u8]> = headers.collect();
        pats.sort();
        pats.dedup();
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&pats)
            .map_err(|e| Error::Table(e.to_string()))?;
        Ok(Scanner { ac })
    }

    /// Offset of the first header occurrence in `hay`.
    pub(crate) fn find(&self, hay: &[u8]) -> Option<usize> {
        self.ac.find(hay).map(|m| m.start())
    }
}
