//! The journal: append-only JSON lines, one per finished build and per
//! finished run, fsync'd before anything acts on them.
//!
//! Line 1 is the header `{"kbisect_journal":1, <job identity>...}`; a journal
//! whose identity differs from the job's is refused. A torn last line (a
//! crash while writing) is ignored and truncated away before appending.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SessionError;
use crate::model::{BuildOutcome, RunResult};

/// The journal format version written in the header.
pub const JOURNAL_VERSION: u32 = 1;

/// Test hook: after this many appends in this process, appends fail with
/// ENOSPC (simulates a full disk without filling one).
pub const FAULT_ENV: &str = "KBISECT_FAULT_JOURNAL_FULL_AFTER";

/// What makes two bisections the same job (a journal is only replayed into
/// the job that wrote it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobIdentity {
    /// The repository (canonical path).
    pub repo: String,
    /// The start commit as given.
    pub start: String,
    pub fix: bool,
    pub config_hash: String,
    /// Anything else that changes outcomes (build and test commands, ...).
    #[serde(default)]
    pub setup: BTreeMap<String, String>,
}

impl JobIdentity {
    /// The keys whose values differ, for the refusal message.
    pub fn differences(&self, other: &JobIdentity) -> Vec<String> {
        let mut d = Vec::new();
        if self.repo != other.repo {
            d.push("repo".to_string());
        }
        if self.start != other.start {
            d.push("start".to_string());
        }
        if self.fix != other.fix {
            d.push("fix".to_string());
        }
        if self.config_hash != other.config_hash {
            d.push("config".to_string());
        }
        let keys: std::collections::BTreeSet<&String> =
            self.setup.keys().chain(other.setup.keys()).collect();
        for k in keys {
            if self.setup.get(k) != other.setup.get(k) {
                d.push(k.clone());
            }
        }
        d
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Header {
    pub kbisect_journal: u32,
    #[serde(flatten)]
    pub identity: JobIdentity,
    /// Seconds since the epoch when the journal was created.
    pub created: u64,
}

/// One journal line after the header.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    /// A build finished (built or failed).
    Build {
        commit: String,
        config_hash: String,
        outcome: BuildOutcome,
    },
    /// One run finished.
    Run {
        commit: String,
        config_hash: String,
        occurrence: usize,
        index: usize,
        result: RunResult,
    },
}

/// What a journal file holds.
#[derive(Debug)]
pub struct Contents {
    pub header: Option<Header>,
    pub entries: Vec<Entry>,
    /// Bytes of complete lines (where the next append goes).
    pub good_len: u64,
    /// A half-written last line was found (and is ignored).
    pub torn: bool,
}

/// Reads a journal without locking or changing it.
pub fn read(path: &Path) -> Result<Contents, SessionError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)
                .map_err(|e| SessionError::io(path, e))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(SessionError::io(path, e)),
    }
    parse(path, &bytes)
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Contents, SessionError> {
    let mut c = Contents {
        header: None,
        entries: Vec::new(),
        good_len: 0,
        torn: false,
    };
    let mut pos = 0usize;
    let mut lineno = 0usize;
    while pos < bytes.len() {
        lineno += 1;
        let Some(nl) = bytes[pos..].iter().position(|&b| b == b'\n') else {
            c.torn = true; // no newline: the write was cut short
            break;
        };
        let line = &bytes[pos..pos + nl];
        let is_last = pos + nl + 1 >= bytes.len();
        let corrupt = |msg: String| SessionError::Corrupt {
            path: path.to_path_buf(),
            line: lineno,
            msg,
        };
        if c.header.is_none() {
            match serde_json::from_slice::<Header>(line) {
                Ok(h) if h.kbisect_journal > JOURNAL_VERSION => {
                    return Err(SessionError::Version {
                        path: path.to_path_buf(),
                        version: h.kbisect_journal,
                    });
                }
                Ok(h) => c.header = Some(h),
                Err(_) if is_last => {
                    c.torn = true;
                    break;
                }
                Err(e) => return Err(corrupt(format!("bad header: {e}"))),
            }
        } else {
            match serde_json::from_slice::<Entry>(line) {
                Ok(e) => c.entries.push(e),
                Err(_) if is_last => {
                    c.torn = true;
                    break;
                }
                Err(e) => return Err(corrupt(e.to_string())),
            }
        }
        pos += nl + 1;
        c.good_len = pos as u64;
    }
    Ok(c)
}

/// An open journal, ready for appends.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    len: u64,
    appended: usize,
    fail_after: Option<usize>,
}

impl Journal {
    /// Opens (or creates) the journal of `identity` at `path` and returns the
    /// entries recorded so far.
    pub fn open(
        path: &Path,
        identity: &JobIdentity,
    ) -> Result<(Journal, Vec<Entry>), SessionError> {
        let contents = read(path)?;
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| SessionError::io(path, e))?;
        let fail_after = std::env::var(FAULT_ENV).ok().and_then(|v| v.parse().ok());
        let mut j = Journal {
            file,
            path: path.to_path_buf(),
            len: contents.good_len,
            appended: 0,
            fail_after,
        };
        if contents.torn {
            j.file
                .set_len(contents.good_len)
                .map_err(|e| SessionError::io(path, e))?;
        }
        match &contents.header {
            Some(h) => {
                let diff = h.identity.differences(identity);
                if !diff.is_empty() {
                    return Err(SessionError::OtherJob {
                        path: path.to_path_buf(),
                        diff: diff.join(", "),
                    });
                }
            }
            None => {
                let created = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                let h = Header {
                    kbisect_journal: JOURNAL_VERSION,
                    identity: identity.clone(),
                    created,
                };
                let line =
                    serde_json::to_string(&h).map_err(|e| SessionError::io(path, e.into()))?;
                j.write_line(line)?;
            }
        }
        Ok((j, contents.entries))
    }

    /// Appends one entry and makes it durable before returning.
    pub fn append(&mut self, e: &Entry) -> Result<(), SessionError> {
        let line = serde_json::to_string(e).map_err(|e| SessionError::io(&self.path, e.into()))?;
        if let Some(n) = self.fail_after
            && self.appended >= n
        {
            return Err(SessionError::JournalWrite {
                path: self.path.clone(),
                source: std::io::Error::from_raw_os_error(nix::libc::ENOSPC),
            });
        }
        self.write_line(line)?;
        self.appended += 1;
        Ok(())
    }

    fn write_line(&mut self, mut line: String) -> Result<(), SessionError> {
        line.push('\n');
        let res = self
            .file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data());
        match res {
            Ok(()) => {
                self.len += line.len() as u64;
                Ok(())
            }
            Err(source) => {
                // Never leave a partial line behind.
                let _ = self.file.set_len(self.len);
                Err(SessionError::JournalWrite {
                    path: self.path.clone(),
                    source,
                })
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RunOutcome;

    fn id() -> JobIdentity {
        JobIdentity {
            repo: "/r".into(),
            start: "HEAD".into(),
            fix: false,
            config_hash: "c".into(),
            setup: BTreeMap::new(),
        }
    }

    fn run_entry(i: usize) -> Entry {
        Entry::Run {
            commit: "abc".into(),
            config_hash: "c".into(),
            occurrence: 0,
            index: i,
            result: crate::traits::run(RunOutcome::Ok),
        }
    }

    #[test]
    fn entries_survive_reopen_and_torn_tail_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("journal.jsonl");
        let (mut j, e) = Journal::open(&p, &id()).unwrap();
        assert!(e.is_empty());
        j.append(&run_entry(0)).unwrap();
        j.append(&run_entry(1)).unwrap();
        drop(j);
        // A crash in the middle of a write.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"type\":\"run\",\"comm").unwrap();
        drop(f);
        let (mut j, e) = Journal::open(&p, &id()).unwrap();
        assert_eq!(e.len(), 2);
        j.append(&run_entry(2)).unwrap();
        drop(j);
        let c = read(&p).unwrap();
        assert_eq!(c.entries.len(), 3);
        assert!(!c.torn);
    }

    #[test]
    fn another_jobs_journal_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("journal.jsonl");
        Journal::open(&p, &id()).unwrap();
        let mut other = id();
        other.start = "v1".into();
        other.setup.insert("test".into(), "x".into());
        let err = Journal::open(&p, &other).unwrap_err().to_string();
        assert!(err.contains("start, test"), "{err}");
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("journal.jsonl");
        let (mut j, _) = Journal::open(&p, &id()).unwrap();
        j.append(&run_entry(0)).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"garbage\n").unwrap();
        let line = serde_json::to_string(&run_entry(1)).unwrap();
        f.write_all(format!("{line}\n").as_bytes()).unwrap();
        drop(f);
        assert!(matches!(
            read(&p),
            Err(SessionError::Corrupt { line: 3, .. })
        ));
    }
}
