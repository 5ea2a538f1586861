//! The signature of a command build's artifact: sha256 over the files it
//! left in `$KBISECT_OUT`, sorted by path, or over one named file.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// sha256 over (relative path, length, content) of every regular file under
/// `dir`, in path order; or of `only`'s content when given. `None` when the
/// build left nothing: then there is no binary to compare, and calling every
/// culprit a no-op change would be wrong.
pub fn dir_signature(dir: &Path, only: Option<&str>) -> std::io::Result<Option<String>> {
    if let Some(one) = only {
        let mut h = Sha256::new();
        hash_file(&mut h, &dir.join(one))?;
        return Ok(Some(hex::encode(h.finalize())));
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    if files.is_empty() {
        return Ok(None);
    }
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        let rel = f.strip_prefix(dir).unwrap_or(f);
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0u8]);
        let len = std::fs::metadata(f)?.len();
        h.update(len.to_le_bytes());
        hash_file(&mut h, f)?;
    }
    Ok(Some(hex::encode(h.finalize())))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let t = e.file_type()?;
        if t.is_dir() {
            walk(&e.path(), out)?;
        } else if t.is_file() {
            out.push(e.path());
        }
    }
    Ok(())
}

fn hash_file(h: &mut Sha256, p: &Path) -> std::io::Result<()> {
    let mut f = std::fs::File::open(p)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        h.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_files_same_signature_whatever_the_order_of_creation() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir(a.path().join("sub")).unwrap();
        std::fs::write(a.path().join("x"), "1").unwrap();
        std::fs::write(a.path().join("sub/y"), "2").unwrap();
        std::fs::create_dir(b.path().join("sub")).unwrap();
        std::fs::write(b.path().join("sub/y"), "2").unwrap();
        std::fs::write(b.path().join("x"), "1").unwrap();
        let sa = dir_signature(a.path(), None).unwrap();
        assert_eq!(sa, dir_signature(b.path(), None).unwrap());
        std::fs::write(b.path().join("x"), "3").unwrap();
        assert_ne!(sa, dir_signature(b.path(), None).unwrap());
        assert_eq!(
            dir_signature(a.path(), Some("sub/y")).unwrap(),
            dir_signature(b.path(), Some("sub/y")).unwrap()
        );
        assert!(dir_signature(a.path(), Some("missing")).is_err());
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(dir_signature(empty.path(), None).unwrap(), None);
    }
}
