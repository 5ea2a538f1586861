//! The journal: append-only JSON lines, one per finished build and per
//! finished run, fsync'd before anything acts on them.
//!
//! Line 1 is the header: `{"kbisect_journal":2, "identity":{...}, "job":{...}}`.
//! A journal whose identity differs from the job's is refused, naming the
//! keys that differ. A torn last line (a crash while writing) is ignored
//! and truncated away before appending.
//!
//! Outcomes are permanent (a build result, a run's verdict-bearing
//! outcome) or transient (the environment failed: disk full, out of
//! memory, a timeout, a machine that did not start): a transient one is
//! recorded for the record, never replayed as evidence, and retried when
//! the bisection resumes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SessionError;
use kbisect_core::{BuildOutcome, RunResult};

/// The journal format version written in the header.
pub const JOURNAL_VERSION: u32 = 2;

/// The job's identity: every outcome-affecting setting, as dotted keys
/// (`test.timeout`) to values, derived from the resolved job.
pub type Identity = BTreeMap<String, String>;

/// The keys whose values differ between two identities, sorted.
pub fn differences(a: &Identity, b: &Identity) -> Vec<String> {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// The journal's first line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Header {
    /// The format version.
    pub kbisect_journal: u32,
    /// What makes two bisections the same job.
    pub identity: Identity,
    /// The whole resolved job, so a report can be rendered from the work
    /// dir alone.
    #[serde(default)]
    pub job: serde_json::Value,
    /// The start commit's hash when the journal was created: a start given
    /// as a branch or `HEAD` stays pinned to it when the branch moves.
    #[serde(default)]
    pub start_commit: Option<String>,
    /// Seconds since the epoch when the journal was created.
    pub created: u64,
}

/// Where a transient failure happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Stage {
    /// The build of (commit, config).
    Build,
    /// One run.
    Run {
        /// The request's occurrence.
        occurrence: usize,
        /// The run's index.
        index: usize,
    },
}

/// One journal line after the header.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    /// A build finished (built or failed).
    Build {
        /// The commit.
        commit: String,
        /// The config's hash.
        config_hash: String,
        /// The outcome.
        outcome: BuildOutcome,
    },
    /// One run finished with an outcome that counts.
    Run {
        /// The commit.
        commit: String,
        /// The config's hash.
        config_hash: String,
        /// The request's occurrence.
        occurrence: usize,
        /// The run's index.
        index: usize,
        /// Its result.
        result: RunResult,
    },
    /// The environment failed a build or a run: kept for the record,
    /// retried on resume.
    Transient {
        /// The commit.
        commit: String,
        /// The config's hash.
        config_hash: String,
        /// Build or run.
        #[serde(flatten)]
        stage: Stage,
        /// What failed.
        error: String,
        /// The run's result, when a run was lost to the infrastructure.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<RunResult>,
    },
}

/// What a journal file holds.
#[derive(Debug)]
pub struct Contents {
    /// The header, if the file has one.
    pub header: Option<Header>,
    /// Every complete entry.
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

/// Just the version a header line announces, to tell an old format from a corrupt line.
#[derive(Deserialize)]
struct VersionOnly {
    kbisect_journal: u32,
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
            if let Ok(v) = serde_json::from_slice::<VersionOnly>(line)
                && v.kbisect_journal != JOURNAL_VERSION
            {
                return Err(SessionError::Version {
                    path: path.to_path_buf(),
                    version: v.kbisect_journal,
                });
            }
            match serde_json::from_slice::<Header>(line) {
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
}

/// What opening a journal found.
#[derive(Debug)]
pub struct Opened {
    /// The journal, ready for appends.
    pub journal: Journal,
    /// Its header (the one found, or the one just written).
    pub header: Header,
    /// The entries recorded so far.
    pub entries: Vec<Entry>,
}

impl Journal {
    /// Opens (or creates, with `header`) the journal at `path`, refusing
    /// one written for another job.
    pub fn open(path: &Path, header: Header) -> Result<Opened, SessionError> {
        let contents = read(path)?;
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| SessionError::io(path, e))?;
        let mut j = Journal {
            file,
            path: path.to_path_buf(),
            len: contents.good_len,
        };
        if contents.torn {
            j.file
                .set_len(contents.good_len)
                .map_err(|e| SessionError::io(path, e))?;
        }
        let header = match contents.header {
            Some(h) => {
                let diff = differences(&h.identity, &header.identity);
                if !diff.is_empty() {
                    return Err(SessionError::OtherJob {
                        path: path.to_path_buf(),
                        diff,
                    });
                }
                h
            }
            None => {
                let line =
                    serde_json::to_string(&header).map_err(|e| SessionError::io(path, e.into()))?;
                j.write_line(line)?;
                header
            }
        };
        Ok(Opened {
            journal: j,
            header,
            entries: contents.entries,
        })
    }

    /// Appends one entry and makes it durable before returning.
    pub fn append(&mut self, e: &Entry) -> Result<(), SessionError> {
        let line = serde_json::to_string(e).map_err(|e| SessionError::io(&self.path, e.into()))?;
        self.write_line(line)
    }

    fn write_line(&mut self, mut line: String) -> Result<(), SessionError> {
        line.push('\n');
        let res = kbisect_proc::failpoint::io("journal-append").and_then(|()| {
            self.file
                .write_all(line.as_bytes())
                .and_then(|()| self.file.sync_data())
        });
        match res {
            Ok(()) => {
                self.len += line.len() as u64;
                kbisect_proc::failpoint::hit("journal-appended");
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

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kbisect_core::RunOutcome;

    fn header(start: &str) -> Header {
        let mut identity = Identity::new();
        identity.insert("repo".into(), "/r".into());
        identity.insert("start".into(), start.into());
        Header {
            kbisect_journal: JOURNAL_VERSION,
            identity,
            job: serde_json::Value::Null,
            start_commit: None,
            created: 0,
        }
    }

    fn run_entry(i: usize) -> Entry {
        Entry::Run {
            commit: "abc".into(),
            config_hash: "c".into(),
            occurrence: 0,
            index: i,
            result: RunResult::new(RunOutcome::Ok),
        }
    }

    #[test]
    fn entries_survive_reopen_and_torn_tail_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("journal.jsonl");
        let mut o = Journal::open(&p, header("HEAD")).unwrap();
        assert!(o.entries.is_empty());
        o.journal.append(&run_entry(0)).unwrap();
        o.journal.append(&run_entry(1)).unwrap();
        drop(o);
        // A crash in the middle of a write.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"type\":\"run\",\"comm").unwrap();
        drop(f);
        let mut o = Journal::open(&p, header("HEAD")).unwrap();
        assert_eq!(o.entries.len(), 2);
        o.journal.append(&run_entry(2)).unwrap();
        drop(o);
        let c = read(&p).unwrap();
        assert_eq!(c.entries.len(), 3);
        assert!(!c.torn);
    }

    #[test]
    fn another_jobs_journal_is_refused_naming_the_keys() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("journal.jsonl");
        Journal::open(&p, header("HEAD")).unwrap();
        let mut other = header("v1");
        other.identity.insert("test.command".into(), "x".into());
        match Journal::open(&p, other) {
            Err(SessionError::OtherJob { diff, .. }) => {
                assert_eq!(diff, vec!["start".to_string(), "test.command".to_string()]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error_and_a_newer_version_is_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("journal.jsonl");
        let mut o = Journal::open(&p, header("HEAD")).unwrap();
        o.journal.append(&run_entry(0)).unwrap();
        drop(o);
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"garbage\n").unwrap();
        let line = serde_json::to_string(&run_entry(1)).unwrap();
        f.write_all(format!("{line}\n").as_bytes()).unwrap();
        drop(f);
        assert!(matches!(
            read(&p),
            Err(SessionError::Corrupt { line: 3, .. })
        ));
        std::fs::write(&p, "{\"kbisect_journal\":9}\n").unwrap();
        assert!(matches!(
            read(&p),
            Err(SessionError::Version { version: 9, .. })
        ));
    }
}
