//! What the test machine runs: the user's C reproducer and kbisect's `/init`,
//! compiled statically on the host and packed into an initramfs.
//!
//! Everything is cached by content hash in the caller's cache dir (init
//! binary, reproducer binary, archive), so a bisection compiles once and
//! every revision boots the same archive. Files appear there by rename, so
//! two processes sharing the cache never see a half-written one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kbisect_proc::{CancelToken, Cmd, ProcError, Status};
use sha2::{Digest, Sha256};

use crate::qemu::cpio::{Entry, write_newc};

/// The init's source, compiled with the reproducer's compiler and flags.
pub const INIT_SOURCE: &str = include_str!("init.c");

/// The reproducer to run in the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reproducer {
    /// A C source file, compiled statically on the host.
    CSource(PathBuf),
    /// A ready static executable for the guest's architecture.
    Binary(PathBuf),
}

impl Reproducer {
    /// A file named `*.c` is a C source; anything else a ready static binary.
    pub fn from_path(path: impl Into<PathBuf>) -> Reproducer {
        let path = path.into();
        if path.extension().is_some_and(|e| e == "c") {
            Reproducer::CSource(path)
        } else {
            Reproducer::Binary(path)
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            Reproducer::CSource(p) | Reproducer::Binary(p) => p,
        }
    }
}

/// How guest programs are compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileConfig {
    /// The C compiler.
    pub cc: PathBuf,
    /// Flags before the source; the defaults make a static binary that needs
    /// nothing from the initramfs.
    pub cflags: Vec<String>,
    /// Libraries and flags after the source (`-lrt`): a static link
    /// resolves a library only for the objects before it.
    pub ldlibs: Vec<String>,
    /// Limit on one compiler run.
    pub timeout: Duration,
}

impl Default for CompileConfig {
    fn default() -> Self {
        CompileConfig {
            cc: "gcc".into(),
            cflags: ["-static", "-pthread", "-O1"].map(String::from).to_vec(),
            ldlibs: Vec::new(),
            timeout: Duration::from_secs(300),
        }
    }
}

/// Why the guest could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum GuestError {
    /// The user's reproducer has a compile or link error: a test failure.
    #[error("reproducer does not compile: {path}:\n{errors}")]
    ReproDoesNotCompile {
        /// The source file.
        path: PathBuf,
        /// Its first error lines.
        errors: String,
    },
    /// The compiler is not installed: the job cannot work as set up.
    #[error("cannot compile guest programs: compiler not found: {0}")]
    CompilerMissing(String),
    /// The compiler cannot build kbisect's own init (no static libc, ...):
    /// the host is not set up for the qemu tester.
    #[error("cannot compile guest programs: kbisect's init does not build here:\n{0}")]
    InitDoesNotBuild(String),
    /// The compiler timed out, was killed, or could not be run: the host's
    /// fault, not the reproducer's.
    #[error("cannot compile guest programs: {0}")]
    Compiler(String),
    /// The reproducer file cannot be read.
    #[error("cannot read the reproducer {}: {source}", path.display())]
    ReproUnreadable {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The cancel token was set while compiling.
    #[error("interrupted")]
    Interrupted,
    /// A file could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done ("cannot write", ...).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A ready initramfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    /// The archive to pass as `-initrd`.
    pub initramfs: PathBuf,
    /// How long the reproducer runs in the guest.
    pub run_time: Duration,
    /// How long init waits after the reproducer for late reports.
    pub settle: Duration,
}

/// Lines of compiler output kept in a compile error.
const ERROR_LINES: usize = 10;

/// Compiles what is needed and writes the archive (or finds it cached);
/// every compiler run holds `cancel`.
pub fn prepare_guest(
    cfg: &CompileConfig,
    cache_dir: &Path,
    repro: &Reproducer,
    run_time: Duration,
    settle: Duration,
    cancel: &CancelToken,
) -> Result<Guest, GuestError> {
    let repro_unreadable = |path: &Path| {
        let path = path.to_owned();
        move |e: GuestError| match e {
            GuestError::Io { source, .. } => GuestError::ReproUnreadable { path, source },
            e => e,
        }
    };
    std::fs::create_dir_all(cache_dir).map_err(|source| GuestError::Io {
        what: "cannot create cache dir",
        path: cache_dir.to_owned(),
        source,
    })?;
    let cc_id = compiler_identity(cfg, cancel)?;
    let cc = Compiler {
        cfg,
        cc_id: &cc_id,
        cache_dir,
        cancel,
    };
    let init = cc
        .compile_cached("init", "init.c", INIT_SOURCE.as_bytes())
        .map_err(|e| match e {
            GuestError::ReproDoesNotCompile { errors, .. } => GuestError::InitDoesNotBuild(errors),
            e => e,
        })?;
    let repro_bin = match repro {
        Reproducer::CSource(path) => {
            let src = read(path).map_err(repro_unreadable(path))?;
            // The copy compiled keeps the user's file name, so errors name it.
            let mut file = path
                .file_name()
                .map_or_else(|| "repro.c".into(), |n| n.to_string_lossy().into_owned());
            if !file.ends_with(".c") {
                file.push_str(".c");
            }
            cc.compile_cached("repro", &file, &src)
                .map_err(|e| match e {
                    GuestError::ReproDoesNotCompile { errors, .. } => {
                        GuestError::ReproDoesNotCompile {
                            path: path.clone(),
                            errors,
                        }
                    }
                    e => e,
                })?
        }
        Reproducer::Binary(path) => path.clone(),
    };
    let config = format!(
        "run_ms={}\nsettle_ms={}\n",
        run_time.as_millis(),
        settle.as_millis()
    );
    let init_bytes = read(&init)?;
    let repro_bytes = match repro {
        Reproducer::Binary(p) => read(p).map_err(repro_unreadable(p))?,
        Reproducer::CSource(_) => read(&repro_bin)?,
    };
    let key = hash(&[&init_bytes, &repro_bytes, config.as_bytes()]);
    let initramfs = cache_dir.join(format!("initramfs-{key}.cpio"));
    if !initramfs.is_file() {
        let entries = [
            Entry::dir("dev", 0o755),
            Entry::char_dev("dev/console", 0o600, 5, 1),
            Entry::char_dev("dev/null", 0o666, 1, 3),
            Entry::dir("proc", 0o555),
            Entry::dir("sys", 0o555),
            Entry::dir("tmp", 0o1777),
            Entry::file("init", 0o755, init_bytes),
            Entry::dir("kbisect", 0o755),
            Entry::file("kbisect/repro", 0o755, repro_bytes),
            Entry::file("kbisect/config", 0o644, config.into_bytes()),
        ];
        write_atomically(&initramfs, &mut |w| write_newc(w, &entries))?;
    }
    Ok(Guest {
        initramfs,
        run_time,
        settle,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, GuestError> {
    std::fs::read(path).map_err(|source| GuestError::Io {
        what: "cannot read",
        path: path.to_owned(),
        source,
    })
}

fn hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed so that moving bytes between parts changes the key.
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(&h.finalize()[..12])
}

/// The compiler's `--version` first line, part of every binary's cache key.
fn compiler_identity(cfg: &CompileConfig, cancel: &CancelToken) -> Result<String, GuestError> {
    let out = Cmd::new(&cfg.cc)
        .arg("--version")
        .timeout(cfg.timeout)
        .cancel(cancel.clone())
        .run()
        .map_err(proc_error)?;
    match out.status {
        Status::Exited(0) => Ok(out.stdout_str().lines().next().unwrap_or("").to_owned()),
        Status::Cancelled => Err(GuestError::Interrupted),
        st => Err(GuestError::Compiler(format!(
            "{} --version: {st}: {}",
            cfg.cc.display(),
            out.stderr_tail(3)
        ))),
    }
}

fn proc_error(e: ProcError) -> GuestError {
    match e {
        ProcError::NotFound { program } => GuestError::CompilerMissing(program),
        e => GuestError::Compiler(e.to_string()),
    }
}

/// One compiler for the guest's programs.
struct Compiler<'a> {
    cfg: &'a CompileConfig,
    cc_id: &'a str,
    cache_dir: &'a Path,
    cancel: &'a CancelToken,
}

impl Compiler<'_> {
    /// `cache_dir/NAME-HASH`, compiled from `source` (as a file named
    /// `file_name`) unless already there.
    fn compile_cached(
        &self,
        name: &str,
        file_name: &str,
        source: &[u8],
    ) -> Result<PathBuf, GuestError> {
        let (cfg, cc_id, cache_dir) = (self.cfg, self.cc_id, self.cache_dir);
        let flags = [cfg.cflags.join("\0"), cfg.ldlibs.join("\0")].join("\0\0");
        let key = hash(&[source, cc_id.as_bytes(), flags.as_bytes()]);
        let bin = cache_dir.join(format!("{name}-{key}"));
        if bin.is_file() {
            return Ok(bin);
        }
        let dir = tempfile::Builder::new()
            .prefix(".compile-")
            .tempdir_in(cache_dir)
            .map_err(|source| GuestError::Io {
                what: "cannot create a temp dir in",
                path: cache_dir.to_owned(),
                source,
            })?;
        let src = dir.path().join(file_name);
        std::fs::write(&src, source).map_err(|source| GuestError::Io {
            what: "cannot write",
            path: src.clone(),
            source,
        })?;
        let out_path = dir.path().join(name);
        let out = Cmd::new(&cfg.cc)
            .args(&cfg.cflags)
            .arg("-o")
            .arg(&out_path)
            .arg(&src)
            .args(&cfg.ldlibs)
            .cwd(dir.path())
            .timeout(cfg.timeout)
            .cancel(self.cancel.clone())
            .run()
            .map_err(proc_error)?;
        if !out.success() {
            if out.status == Status::Cancelled {
                return Err(GuestError::Interrupted);
            }
            if matches!(out.status, Status::TimedOut | Status::Signaled(_)) {
                return Err(GuestError::Compiler(format!(
                    "{} {}: {}",
                    cfg.cc.display(),
                    name,
                    out.status
                )));
            }
            return Err(GuestError::ReproDoesNotCompile {
                path: src,
                errors: first_errors(&out.stderr, dir.path()),
            });
        }
        std::fs::rename(&out_path, &bin).map_err(|source| GuestError::Io {
            what: "cannot write",
            path: bin.clone(),
            source,
        })?;
        Ok(bin)
    }
}

/// The first error lines of a compiler's output (the rest is usually
/// consequences), with the temp dir's path taken out.
fn first_errors(stderr: &[u8], tmp: &Path) -> String {
    let text = String::from_utf8_lossy(stderr);
    let prefix = format!("{}/", tmp.display());
    let lines: Vec<String> = text.lines().map(|l| l.replace(&prefix, "")).collect();
    let is_error = |l: &str| {
        l.contains("error:")
            || l.contains("undefined reference")
            || l.contains("cannot find -l")
            || l.contains("collect2:")
    };
    let errors: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| is_error(l))
        .take(ERROR_LINES)
        .collect();
    if errors.is_empty() {
        let start = lines.len().saturating_sub(ERROR_LINES);
        lines[start..].join("\n")
    } else {
        errors.join("\n")
    }
}

/// Writes `path` through a temp file in the same dir and a rename.
fn write_atomically(
    path: &Path,
    f: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), GuestError> {
    let io = |source| GuestError::Io {
        what: "cannot write",
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        f(&mut w).map_err(io)?;
        w.flush().map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_errors_keeps_error_lines_without_the_temp_path() {
        let err = b"/tmp/x/repro.c: In function 'main':\n/tmp/x/repro.c:3:5: error: 'y' undeclared\n   3 |     y = 1;\n/tmp/x/repro.c:4:1: error: expected ';'\n";
        assert_eq!(
            first_errors(err, Path::new("/tmp/x")),
            "repro.c:3:5: error: 'y' undeclared\nrepro.c:4:1: error: expected ';'"
        );
        assert_eq!(first_errors(b"a\nb\n", Path::new("/t")), "a\nb");
    }

    #[test]
    fn hash_depends_on_part_boundaries() {
        assert_ne!(hash(&[b"ab", b"c"]), hash(&[b"a", b"bc"]));
        assert_eq!(hash(&[b"ab", b"c"]), hash(&[b"ab", b"c"]));
    }
}
