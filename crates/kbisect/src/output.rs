//! The binary's own output. Writes to stdout return errors instead of
//! panicking (as `println!` does on a closed pipe), so `kbisect ... | head`
//! ends quietly and a full device is a one-line error.

use std::io::Write;

use crate::exit::CliError;

/// Writes `text` (and a newline) to stdout.
pub fn line(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// Writes raw bytes to stdout.
pub fn bytes(b: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(b)?;
    out.flush()?;
    Ok(())
}

/// A note for the user on stderr (`kbisect: ...`); a failure to write it is ignored.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "kbisect: {text}");
}
