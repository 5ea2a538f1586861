//! A run's console on disk: everything up to a cap, then a note of how much
//! was left out. A write error (disk full) is kept and reported once, and
//! the run goes on (its verdict comes from the in-memory scan).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The console log file of one run.
pub(crate) struct CappedLog {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    cap: u64,
    written: u64,
    dropped: u64,
    error: Option<String>,
}

impl CappedLog {
    pub(crate) fn create(path: &Path, cap: u64) -> Result<CappedLog, String> {
        let file =
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(CappedLog {
            path: path.to_owned(),
            file: Some(BufWriter::with_capacity(64 << 10, file)),
            cap,
            written: 0,
            dropped: 0,
            error: None,
        })
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        let room = self.cap.saturating_sub(self.written);
        let take = bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        self.dropped += (bytes.len() - take) as u64;
        if take == 0 {
            return;
        }
        self.written += take as u64;
        let res = match self.file.as_mut() {
            Some(f) => f.write_all(&bytes[..take]),
            None => return,
        };
        if let Err(e) = res {
            self.fail(e);
        }
    }

    /// Appends a note line (not counted against the cap).
    pub(crate) fn note(&mut self, text: &str) {
        if let Some(f) = self.file.as_mut()
            && let Err(e) = f.write_all(text.as_bytes())
        {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: std::io::Error) {
        self.error = Some(format!("cannot write {}: {e}", self.path.display()));
        self.file = None;
    }

    pub(crate) fn truncated(&self) -> bool {
        self.dropped > 0
    }

    /// Notes the truncation, flushes, and returns the first write error.
    pub(crate) fn finish(mut self) -> Result<(), String> {
        if self.dropped > 0 {
            let note = format!(
                "\n[kbisect: console log truncated at {} bytes; {} more bytes not written]\n",
                self.cap, self.dropped
            );
            self.note(&note);
        }
        if let Some(mut f) = self.file.take()
            && let Err(e) = f.flush()
        {
            self.fail(e);
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_is_capped_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run.log");
        let mut l = CappedLog::create(&p, 10).unwrap();
        l.write(b"0123456");
        l.write(b"789abcdef");
        assert!(l.truncated());
        l.finish().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "0123456789\n[kbisect: console log truncated at 10 bytes; 6 more bytes not written]\n"
        );
    }

    #[test]
    fn write_errors_are_reported_once() {
        let p = Path::new("/dev/full");
        if !p.exists() {
            return;
        }
        let mut l = CappedLog::create(p, 1 << 30).unwrap();
        l.write(&vec![b'x'; 200 << 10]);
        l.write(b"more");
        let e = l.finish().unwrap_err();
        assert!(e.starts_with("cannot write /dev/full"), "{e}");
    }
}
