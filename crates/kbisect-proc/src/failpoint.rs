//! Failpoints: named places in kbisect where a test can make the process
//! die as `kill -9` would (no destructor runs, nothing is flushed), or make
//! an I/O call fail, so crash consistency is proven at every point that
//! matters instead of sampled with random kill times.
//!
//! `KBISECT_FAILPOINT=name:count[:action][,name:count[:action]...]` arms
//! them: the `count`-th time (1-based) this process reaches the point
//! `name`, the action happens — `kill` (the default: SIGKILL to itself) or
//! `enospc` (the I/O call there fails with "no space left on device", that
//! time and every time after). Unarmed points cost one atomic load.

use std::collections::HashMap;
use std::io;
use std::sync::{Mutex, OnceLock};

/// The environment variable that arms failpoints.
pub const ENV: &str = "KBISECT_FAILPOINT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Kill,
    Enospc,
}

#[derive(Debug)]
struct Armed {
    points: HashMap<String, (usize, Action)>,
    hits: Mutex<HashMap<String, usize>>,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var(ENV).ok()?;
            let points: HashMap<String, (usize, Action)> = spec
                .split(',')
                .filter_map(|p| {
                    let mut f = p.trim().split(':');
                    let name = f.next()?.to_string();
                    let count = f.next().and_then(|c| c.parse().ok()).unwrap_or(1);
                    let action = match f.next() {
                        Some("enospc") => Action::Enospc,
                        _ => Action::Kill,
                    };
                    (!name.is_empty()).then_some((name, (count, action)))
                })
                .collect();
            (!points.is_empty()).then(|| Armed {
                points,
                hits: Mutex::new(HashMap::new()),
            })
        })
        .as_ref()
}

/// Counts a hit of `name`; the action due now, if any.
fn reach(name: &str) -> Option<Action> {
    let a = armed()?;
    let &(count, action) = a.points.get(name)?;
    let mut hits = a.hits.lock().ok()?;
    let n = hits.entry(name.to_string()).or_insert(0);
    *n += 1;
    let due = match action {
        Action::Kill => *n == count,
        Action::Enospc => *n >= count,
    };
    due.then_some(action)
}

fn die(name: &str) -> ! {
    tracing::debug!(failpoint = name, "failpoint: killing this process");
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    // SIGKILL cannot be caught; this is never reached.
    std::process::abort()
}

/// A place where the process may die: kills it when `name` is armed and due.
pub fn hit(name: &str) {
    if reach(name) == Some(Action::Kill) {
        die(name);
    }
}

/// A place before an I/O call: kills the process, or returns the I/O
/// error, when `name` is armed and due.
pub fn io(name: &str) -> io::Result<()> {
    match reach(name) {
        Some(Action::Kill) => die(name),
        Some(Action::Enospc) => Err(io::Error::from_raw_os_error(nix::libc::ENOSPC)),
        None => Ok(()),
    }
}
