//! The initramfs format: a "newc" cpio archive, written here so that no
//! cpio program (and no root, for the device node) is needed at run time.
//!
//! Layout (the kernel's `Documentation/driver-api/early-userspace/buffer-format.rst`):
//! per entry the 6-byte magic `070701`, 13 fields as 8 hex digits, the NUL
//! terminated name padded to 4 bytes, the data padded to 4 bytes; a last
//! entry named `TRAILER!!!`. The kernel takes it uncompressed as well as
//! compressed. Times and owners are fixed so that the same inputs give the
//! same bytes (the archive is cached by its inputs' hash).

use std::io::{self, Write};

/// What an archive entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file with these contents.
    File(Vec<u8>),
    /// A character device node (major, minor).
    CharDev(u32, u32),
}

/// One path in the archive (relative, no leading `/`), with its permission bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive, e.g. `dev/console`.
    pub path: String,
    /// Permission bits (`0o755`); the file type comes from `kind`.
    pub perm: u32,
    /// What the path is.
    pub kind: EntryKind,
}

impl Entry {
    /// A directory entry.
    pub fn dir(path: &str, perm: u32) -> Entry {
        Entry {
            path: path.into(),
            perm,
            kind: EntryKind::Dir,
        }
    }

    /// A regular file entry.
    pub fn file(path: &str, perm: u32, data: Vec<u8>) -> Entry {
        Entry {
            path: path.into(),
            perm,
            kind: EntryKind::File(data),
        }
    }

    /// A character device entry.
    pub fn char_dev(path: &str, perm: u32, major: u32, minor: u32) -> Entry {
        Entry {
            path: path.into(),
            perm,
            kind: EntryKind::CharDev(major, minor),
        }
    }
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;
const TRAILER: &str = "TRAILER!!!";

/// Writes `entries` (parents before children) as one newc archive.
pub fn write_newc(w: &mut dyn Write, entries: &[Entry]) -> io::Result<()> {
    let mut offset = 0u64;
    for (i, e) in entries.iter().enumerate() {
        let path = e.path.trim_start_matches('/');
        if path.is_empty() || path.as_bytes().contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad archive path {:?}", e.path),
            ));
        }
        let (mode, nlink, data, rdev): (u32, u32, &[u8], (u32, u32)) = match &e.kind {
            EntryKind::Dir => (S_IFDIR, 2, &[], (0, 0)),
            EntryKind::File(d) => (S_IFREG, 1, d, (0, 0)),
            EntryKind::CharDev(ma, mi) => (S_IFCHR, 1, &[], (*ma, *mi)),
        };
        let ino = u32::try_from(i + 1).map_err(io::Error::other)?;
        let size = u32::try_from(data.len()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{path}: larger than 4 GiB"),
            )
        })?;
        let mode = mode | (e.perm & 0o7777);
        offset += header(w, offset, ino, mode, nlink, size, rdev, path)?;
        offset += padded(w, offset, data)?;
    }
    header(w, offset, 0, 0, 1, 0, (0, 0), TRAILER)?;
    Ok(())
}

/// Writes a header and the padded name; returns the bytes written.
#[allow(clippy::too_many_arguments)]
fn header(
    w: &mut dyn Write,
    offset: u64,
    ino: u32,
    mode: u32,
    nlink: u32,
    size: u32,
    rdev: (u32, u32),
    name: &str,
) -> io::Result<u64> {
    let namesize = u32::try_from(name.len() + 1).map_err(io::Error::other)?;
    // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
    let fields = [
        ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev.0, rdev.1, namesize, 0,
    ];
    let mut h = String::with_capacity(110);
    h.push_str("070701");
    for f in fields {
        h.push_str(&format!("{f:08x}"));
    }
    w.write_all(h.as_bytes())?;
    let mut name_bytes = name.as_bytes().to_vec();
    name_bytes.push(0);
    Ok(h.len() as u64 + padded(w, offset + h.len() as u64, &name_bytes)?)
}

/// Writes `data` and pads the stream to a multiple of 4; returns the bytes written.
fn padded(w: &mut dyn Write, offset: u64, data: &[u8]) -> io::Result<u64> {
    w.write_all(data)?;
    let end = offset + data.len() as u64;
    let pad = ((4 - end % 4) % 4) as usize;
    w.write_all(&[0u8; 3][..pad])?;
    Ok((data.len() + pad) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive() -> Vec<u8> {
        let mut out = Vec::new();
        write_newc(
            &mut out,
            &[
                Entry::dir("dev", 0o755),
                Entry::char_dev("dev/console", 0o600, 5, 1),
                Entry::file("init", 0o755, b"#!hello".to_vec()),
                Entry::file("empty", 0o644, Vec::new()),
            ],
        )
        .unwrap();
        out
    }

    #[test]
    fn layout_is_aligned_and_ends_with_the_trailer() {
        let a = archive();
        assert_eq!(a.len() % 4, 0);
        assert!(a.starts_with(b"070701"));
        // First header: ino 1, mode 040755, nlink 2, namesize 4 ("dev\0").
        assert_eq!(
            &a[..110],
            b"07070100000001000041ed00000000000000000000000200000000000000000000000000000000000000000000000000000004\
00000000"
                .as_slice()
        );
        assert_eq!(&a[110..114], b"dev\0");
        let trailer = a
            .windows(TRAILER.len())
            .rposition(|w| w == TRAILER.as_bytes())
            .unwrap();
        assert_eq!(&a[trailer - 110..trailer - 104], b"070701");
        // Same inputs, same bytes.
        assert_eq!(archive(), a);
    }

    #[test]
    fn bad_paths_are_refused() {
        let mut out = Vec::new();
        let e = write_newc(&mut out, &[Entry::dir("/", 0o755)]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
