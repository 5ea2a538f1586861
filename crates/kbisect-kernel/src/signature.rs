//! The kernel signature: what makes two `vmlinux` files "the same binary".
//!
//! Exactly BISECTION.md's (and syzbot's) definition: for each ELF section,
//! in section header order, that is allocated (`SHF_ALLOC`), has contents in
//! the file (not `SHT_NOBITS`) and is not a note (`SHT_NOTE`: the build id
//! lives there), the sha256 of its bytes; the signature is the hex sha256 of
//! those 32-byte digests concatenated. Debug info and symbol tables are not
//! allocated, so a change that only moves line numbers in DWARF does not
//! count; one that moves a `WARN()`'s line does (the bug table holds it).

use std::fmt;
use std::path::Path;

use object::elf;
use object::read::elf::{ElfFile32, ElfFile64, FileHeader, SectionHeader};
use object::{Endianness, FileKind};
use sha2::{Digest, Sha256};

use crate::error::KernelError;

/// The hex signature of a `vmlinux`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KernelSignature(pub String);

impl fmt::Display for KernelSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The signature of the ELF file at `path`.
pub fn vmlinux_signature(path: &Path) -> Result<KernelSignature, KernelError> {
    let data = std::fs::read(path).map_err(|e| KernelError::io(path, e))?;
    elf_signature(&data).map_err(|detail| KernelError::Io {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, detail),
    })
}

/// The signature of an ELF image in memory; `Err` says why it is not ELF.
pub fn elf_signature(data: &[u8]) -> Result<KernelSignature, String> {
    let kind = FileKind::parse(data).map_err(|e| format!("not an ELF file: {e}"))?;
    let digests = match kind {
        FileKind::Elf64 => {
            let f = ElfFile64::<Endianness>::parse(data).map_err(|e| e.to_string())?;
            section_digests(f.elf_header(), f.endian(), data)?
        }
        FileKind::Elf32 => {
            let f = ElfFile32::<Endianness>::parse(data).map_err(|e| e.to_string())?;
            section_digests(f.elf_header(), f.endian(), data)?
        }
        other => return Err(format!("not an ELF file ({other:?})")),
    };
    let mut outer = Sha256::new();
    for d in &digests {
        outer.update(d);
    }
    Ok(KernelSignature(hex::encode(outer.finalize())))
}

fn section_digests<H: FileHeader<Endian = Endianness>>(
    header: &H,
    endian: Endianness,
    data: &[u8],
) -> Result<Vec<[u8; 32]>, String> {
    let sections = header.sections(endian, data).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for s in sections.iter() {
        let flags: u64 = s.sh_flags(endian).into();
        let kind = s.sh_type(endian);
        if flags & u64::from(elf::SHF_ALLOC) == 0
            || kind == elf::SHT_NOBITS
            || kind == elf::SHT_NOTE
        {
            continue;
        }
        let bytes = s.data(endian, data).map_err(|e| e.to_string())?;
        out.push(Sha256::digest(bytes).into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use kbisect_proc::Cmd;

    /// Compiles `src` with gcc into an ELF executable under `dir`.
    fn build(dir: &Path, name: &str, src: &str) -> std::path::PathBuf {
        let c = dir.join(format!("{name}.c"));
        std::fs::write(&c, src).unwrap();
        let out = dir.join(name);
        // -g: debug info differs with line numbers, and must not count.
        Cmd::new("gcc")
            .args(["-O2", "-g", "-o"])
            .arg(&out)
            .arg(&c)
            .cwd(dir)
            .run_checked()
            .unwrap();
        out
    }

    const PROG: &str = "#include <stdio.h>\nstatic int twice(int x) { return 2 * x; }\nint main(int argc, char **argv) {\n\tprintf(\"%d %s\\n\", twice(argc), argv[0]);\n\treturn 0;\n}\n";

    #[test]
    fn same_source_same_signature_and_code_changes_differ() {
        let dir = tempfile::tempdir().unwrap();
        let a = vmlinux_signature(&build(dir.path(), "a", PROG)).unwrap();
        let b = vmlinux_signature(&build(dir.path(), "a2", PROG)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.0.len(), 64);
        // A comment, even one that moves every line below it, only changes
        // debug info, which is not allocated.
        let commented = PROG.replacen("#include", "/* a comment\n * on two lines */\n#include", 1);
        let c = vmlinux_signature(&build(dir.path(), "c", &commented)).unwrap();
        assert_eq!(a, c);
        let changed = PROG.replace("2 * x", "3 * x");
        let d = vmlinux_signature(&build(dir.path(), "d", &changed)).unwrap();
        assert_ne!(a, d);
        let data_change = PROG.replace("%d %s", "%d: %s");
        let e = vmlinux_signature(&build(dir.path(), "e", &data_change)).unwrap();
        assert_ne!(a, e);
    }

    #[test]
    fn the_build_id_note_does_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let exe = build(dir.path(), "n", PROG);
        let mut bytes = std::fs::read(&exe).unwrap();
        let before = elf_signature(&bytes).unwrap();
        // Flip a byte of the GNU build id, in a NOTE section.
        let f = ElfFile64::<Endianness>::parse(&*bytes).unwrap();
        let endian = f.endian();
        let note = f
            .elf_header()
            .sections(endian, &*bytes)
            .unwrap()
            .iter()
            .find(|s| s.sh_type(endian) == elf::SHT_NOTE && s.sh_size(endian) > 20)
            .map(|s| (s.sh_offset(endian) + s.sh_size(endian) - 1) as usize)
            .expect("a note section");
        bytes[note] ^= 0xff;
        assert_eq!(elf_signature(&bytes).unwrap(), before);
    }

    #[test]
    fn digests_are_chained_as_specified() {
        // The signature of an ELF with known loaded sections, computed by hand.
        let dir = tempfile::tempdir().unwrap();
        let exe = build(dir.path(), "s", PROG);
        let bytes = std::fs::read(&exe).unwrap();
        let f = ElfFile64::<Endianness>::parse(&*bytes).unwrap();
        let endian = f.endian();
        let mut outer = Sha256::new();
        let mut n = 0;
        for s in f.elf_header().sections(endian, &*bytes).unwrap().iter() {
            let alloc = s.sh_flags(endian) & u64::from(elf::SHF_ALLOC) != 0;
            let t = s.sh_type(endian);
            if alloc && t != elf::SHT_NOBITS && t != elf::SHT_NOTE {
                outer.update(Sha256::digest(s.data(endian, &*bytes).unwrap()));
                n += 1;
            }
        }
        assert!(n > 5);
        assert_eq!(
            elf_signature(&bytes).unwrap().0,
            hex::encode(outer.finalize())
        );
    }

    #[test]
    fn not_elf_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vmlinux");
        std::fs::write(&p, b"#!/bin/sh\n").unwrap();
        let e = vmlinux_signature(&p).unwrap_err().to_string();
        assert!(
            e.contains("vmlinux") && e.contains("not an ELF file"),
            "{e}"
        );
        assert!(vmlinux_signature(&dir.path().join("missing")).is_err());
    }
}
