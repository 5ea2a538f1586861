//! Commit metadata: header fields, message, trailers.

use crate::error::GitError;
use crate::id::CommitId;
use crate::repo::Repo;

/// Prefixes that Android/ChromeOS-style trees add to upstream titles.
const TITLE_PREFIXES: [&str; 6] = [
    "UPSTREAM:",
    "CHROMIUM:",
    "FROMLIST:",
    "BACKPORT:",
    "FROMGIT:",
    "net-backports:",
];

/// The title with one backport prefix removed, trimmed (syzkaller's `CanonicalizeCommit`).
pub fn canonical_title(t: &str) -> &str {
    for p in TITLE_PREFIXES {
        if let Some(rest) = t.strip_prefix(p) {
            return rest.trim();
        }
    }
    t.trim()
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Commit {
    pub id: CommitId,
    /// The subject line (git's `%s`: the first paragraph joined into one line).
    pub title: String,
    pub author_name: String,
    pub author_email: String,
    /// Git's default date format, e.g. `Thu Oct 29 00:19:24 2020 -0700`.
    pub author_date: String,
    pub author_time: i64,
    pub commit_time: i64,
    pub parents: Vec<CommitId>,
    /// The full message, title included.
    pub body: String,
    /// `(key, value)` in order, from the trailer block git recognises at the end of the message.
    pub trailers: Vec<(String, String)>,
}

impl Commit {
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }
}

/// Fields separated by NUL; the message goes last since it is free text.
/// Trailers use record/unit separators so values may contain anything else.
const FORMAT: &str = "--format=%H%x00%P%x00%an%x00%ae%x00%ad%x00%at%x00%ct%x00%s%x00\
%(trailers:only,unfold,separator=%x1e,key_value_separator=%x1f)%x00%B";
const FIELDS: usize = 10;

impl Repo {
    pub fn commit(&self, id: &CommitId) -> Result<Commit, GitError> {
        let cmd = self.git().args([
            "log",
            "-1",
            "--no-show-signature",
            "--date=default",
            FORMAT,
            id.as_str(),
            "--",
        ]);
        let out = cmd.run()?;
        if !out.success() {
            return Err(self.unknown_or(id.as_str(), &cmd, &out));
        }
        parse_commit(&out.stdout_str())
    }
}

fn parse_commit(text: &str) -> Result<Commit, GitError> {
    let f: Vec<&str> = text.splitn(FIELDS, '\0').collect();
    if f.len() != FIELDS {
        return Err(GitError::parse(
            "commit",
            format!("expected {FIELDS} fields, got {}", f.len()),
        ));
    }
    let int = |what: &str, s: &str| {
        s.trim()
            .parse::<i64>()
            .map_err(|e| GitError::parse(what, format!("{s:?}: {e}")))
    };
    let parents = f[1]
        .split_whitespace()
        .map(CommitId::from_git)
        .collect::<Result<Vec<_>, _>>()?;
    let trailers = f[8]
        .split('\x1e')
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once('\x1f') {
            Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
            None => (t.trim().to_owned(), String::new()),
        })
        .collect();
    Ok(Commit {
        id: CommitId::from_git(f[0].trim())?,
        parents,
        author_name: f[2].to_owned(),
        author_email: f[3].to_owned(),
        author_date: f[4].to_owned(),
        author_time: int("author time", f[5])?,
        commit_time: int("commit time", f[6])?,
        title: f[7].to_owned(),
        trailers,
        body: f[9].trim_end_matches('\n').to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_title_strips_one_prefix() {
        assert_eq!(canonical_title("UPSTREAM: 603"), "603");
        assert_eq!(canonical_title("FROMGIT:  net: fix  "), "net: fix");
        assert_eq!(canonical_title("net-backports: x"), "x");
        assert_eq!(canonical_title("UPSTREAM: BACKPORT: x"), "BACKPORT: x");
        assert_eq!(canonical_title("upstream: x"), "upstream: x");
        assert_eq!(canonical_title(" 603 "), "603");
    }

    #[test]
    fn parses_a_log_record() {
        let id = "a".repeat(40);
        let p = "b".repeat(40);
        let text = format!(
            "{id}\0{p}\0A U Thor\0a@x.org\0Thu Oct 29 00:19:24 2020 -0700\01603955964\01603955965\0title\0\
             Signed-off-by\x1fA <a@x.org>\x1eCc\x1fB <b@x.org>\0title\n\nbody\n\nSigned-off-by: A <a@x.org>\nCc: B <b@x.org>\n\n"
        );
        let c = parse_commit(&text).unwrap();
        assert_eq!(c.parents.len(), 1);
        assert_eq!(c.author_time, 1603955964);
        assert_eq!(
            c.trailers,
            vec![
                ("Signed-off-by".to_owned(), "A <a@x.org>".to_owned()),
                ("Cc".to_owned(), "B <b@x.org>".to_owned())
            ]
        );
        assert!(c.body.starts_with("title\n\nbody"));
        assert!(c.body.ends_with("b@x.org>"));
    }
}
