//! Logs whose crash is not worth reporting: the fuzzer or executor died of
//! its own causes (out of memory, failed to start).

use regex::bytes::Regex;

use crate::Error;
use crate::oops_table::compile;

const SUPPRESSIONS: &[&str] = &[
    r"panic: failed to start executor binary",
    r"panic: executor failed: pthread_create failed",
    r"panic: error reading mmapped file",
    r"panic: write to mmapped file failed",
    r"fatal error: runtime: out of memory",
    r"fatal error: runtime: cannot allocate memory",
    r"fatal error: out of memory",
    r"fatal error: newosproc",
    // Under memory pressure the Go runtime of the fuzzer dies of a SIGBUS
    // on its own mappings instead of an out-of-memory error.
    r"fatal error: unexpected signal during runtime execution",
    r"signal SIGBUS: bus error",
    // Android's low-memory killer, on the fuzzer or on the executor.
    r"lowmemorykiller: Killing 'syz-fuzzer'",
    r"lowmemorykiller: Killing 'syz-executor",
    r"Out of memory: Kill(?:ed)? process [0-9]+ \(syz-(?:fuzzer|executor)\)",
];

pub(crate) fn builtin() -> Result<Vec<Regex>, Error> {
    SUPPRESSIONS.iter().map(|p| compile(p)).collect()
}

pub(crate) fn matches(res: &[Regex], out: &[u8]) -> bool {
    res.iter().any(|re| re.is_match(out))
}
