//! The compiler identity logged for a revision (`testing commit H with
//! gcc (GCC) 8.1.0`): the kernel's own, `LINUX_COMPILER` in the build dir's
//! `include/generated/compile.h`, else the first line of `CC --version`.
//!
//! Kernels since v5.8 put the linker after the compiler
//! (`"gcc (GCC) 10.2.0, GNU ld (GNU Binutils) 2.35"`); syzbot's log names the
//! compiler only, so the linker part is cut off.

use std::path::Path;
use std::time::Duration;

use kbisect_proc::Cmd;

use crate::error::KernelError;

/// `LINUX_COMPILER` from `<build>/include/generated/compile.h`, without the
/// linker part; `None` when the file or the define is missing.
pub fn compiler_from_compile_h(build_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(build_dir.join("include/generated/compile.h")).ok()?;
    let line = text.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix("#define")?.trim_start();
        rest.strip_prefix("LINUX_COMPILER")
            .filter(|r| r.starts_with([' ', '\t']))
            .map(str::trim)
    })?;
    let quoted = line.strip_prefix('"')?.strip_suffix('"')?;
    Some(compiler_part(quoted).to_owned())
}

/// `gcc (GCC) 10.2.0, GNU ld (GNU Binutils) 2.35` → `gcc (GCC) 10.2.0`.
fn compiler_part(s: &str) -> &str {
    for sep in [", GNU ld", ", LLD", ", ld"] {
        if let Some(i) = s.find(sep) {
            return s[..i].trim();
        }
    }
    s.trim()
}

/// The first line of `<compiler> --version` (the command may have
/// arguments, e.g. `ccache gcc`, split on spaces).
pub fn compiler_version_line(compiler: &str, timeout: Duration) -> Result<String, KernelError> {
    let mut words = compiler.split_whitespace();
    let program = words.next().ok_or_else(|| KernelError::ToolMissing {
        program: "(empty compiler command)".into(),
    })?;
    let cmd = Cmd::new(program)
        .args(words)
        .arg("--version")
        .timeout(timeout);
    let out = cmd.run()?;
    if !out.success() {
        return Err(KernelError::Command {
            argv: cmd.argv_string(),
            detail: format!("{}: {}", out.status, out.stderr_tail(3)),
        });
    }
    let text = out.stdout_str();
    Ok(text.lines().next().unwrap_or_default().trim().to_owned())
}

/// The identity to log: compile.h's when the build got that far, else the
/// compiler's own `--version` line.
pub fn compiler_id(
    build_dir: &Path,
    compiler: &str,
    timeout: Duration,
) -> Result<String, KernelError> {
    match compiler_from_compile_h(build_dir) {
        Some(id) => Ok(id),
        None => compiler_version_line(compiler, timeout),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn with_compile_h(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let gen_dir = dir.path().join("include/generated");
        std::fs::create_dir_all(&gen_dir).unwrap();
        std::fs::write(gen_dir.join("compile.h"), text).unwrap();
        dir
    }

    #[test]
    fn compile_h_of_new_and_old_kernels() {
        let d = with_compile_h(
            "/* This file is auto generated, version 1 */\n#define UTS_MACHINE \"x86_64\"\n#define LINUX_COMPILE_BY \"kbisect\"\n#define LINUX_COMPILER \"gcc (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40\"\n",
        );
        assert_eq!(
            compiler_from_compile_h(d.path()).as_deref(),
            Some("gcc (Debian 12.2.0-14+deb12u1) 12.2.0")
        );
        let d = with_compile_h("#define LINUX_COMPILER \"gcc version 8.1.0 (GCC) \"\n");
        assert_eq!(
            compiler_from_compile_h(d.path()).as_deref(),
            Some("gcc version 8.1.0 (GCC)")
        );
        let d =
            with_compile_h("#define LINUX_COMPILER \"Debian clang version 14.0.6, LLD 14.0.6\"\n");
        assert_eq!(
            compiler_from_compile_h(d.path()).as_deref(),
            Some("Debian clang version 14.0.6")
        );
        let d = with_compile_h("#define LINUX_COMPILER_BY \"x\"\n");
        assert_eq!(compiler_from_compile_h(d.path()), None);
        assert_eq!(compiler_from_compile_h(Path::new("/nonexistent")), None);
    }

    #[test]
    fn falls_back_to_version_line() {
        let empty = tempfile::tempdir().unwrap();
        let id = compiler_id(empty.path(), "gcc", Duration::from_secs(30)).unwrap();
        assert!(id.starts_with("gcc"), "{id}");
        let d = with_compile_h("#define LINUX_COMPILER \"gcc (GCC) 8.1.0\"\n");
        assert_eq!(
            compiler_id(d.path(), "gcc", Duration::from_secs(30)).unwrap(),
            "gcc (GCC) 8.1.0"
        );
        let e =
            compiler_id(empty.path(), "kbisect-no-such-cc", Duration::from_secs(30)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "kbisect-no-such-cc not found: install it to build kernels"
        );
        let e = compiler_version_line("false", Duration::from_secs(30)).unwrap_err();
        assert!(e.to_string().starts_with("false --version failed"), "{e}");
    }
}
