//! The work dir lock: one kbisect per work dir. An exclusive `flock` on
//! `<workdir>/lock`, released by the kernel when the process dies (even on
//! `kill -9`), and the holder's pid written into the file so a second
//! process can say who holds it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::SessionError;

/// Held for the life of the session; dropping it releases the lock.
#[derive(Debug)]
pub struct WorkDirLock {
    _flock: Flock<File>,
    /// The lock file.
    pub path: PathBuf,
}

/// Takes the lock on `dir`, or says which process holds it.
pub fn lock(dir: &Path) -> Result<WorkDirLock, SessionError> {
    let path = dir.join("lock");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| SessionError::NotWritable {
            dir: dir.to_path_buf(),
            source,
        })?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(flock) => {
            let mut f: &File = &flock;
            let pid = std::process::id();
            f.set_len(0)
                .and_then(|()| f.write_all(format!("{pid}\n").as_bytes()))
                .and_then(|()| f.sync_data())
                .map_err(|source| SessionError::NotWritable {
                    dir: dir.to_path_buf(),
                    source,
                })?;
            Ok(WorkDirLock {
                _flock: flock,
                path,
            })
        }
        Err((mut file, Errno::EWOULDBLOCK)) => {
            let mut s = String::new();
            let _ = file.read_to_string(&mut s);
            Err(SessionError::Locked {
                dir: dir.to_path_buf(),
                pid: s.trim().parse().ok(),
            })
        }
        Err((_, errno)) => Err(SessionError::NotWritable {
            dir: dir.to_path_buf(),
            source: std::io::Error::from(errno),
        }),
    }
}

/// The pid written in the lock file of `dir`, if any process holds the lock.
pub fn holder(dir: &Path) -> Option<u32> {
    match lock(dir) {
        Ok(_) => None,
        Err(SessionError::Locked { pid, .. }) => pid,
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_names_the_holder() {
        let d = tempfile::tempdir().unwrap();
        let l = lock(d.path()).unwrap();
        // flock locks belong to the open file description: a second open in
        // the same process conflicts just like another process would.
        match lock(d.path()) {
            Err(SessionError::Locked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        assert_eq!(holder(d.path()), Some(std::process::id()));
        drop(l);
        assert!(lock(d.path()).is_ok());
    }
}
