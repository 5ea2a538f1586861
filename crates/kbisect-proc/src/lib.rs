//! The one way kbisect runs an external program: timeout, process group, TERM then KILL, capped output.
//!
//! Every child runs in a process group of its own so that a timeout, an idle
//! timeout or a cancellation can take down everything it spawned (make's
//! compiler jobs, qemu's helpers), and so that nothing it left behind keeps
//! our pipes open after it exits. The environment is scrubbed of `GIT_*`
//! variables (a hook or `git bisect run` calling kbisect must not redirect
//! our git calls) and pinned to `LC_ALL=C` so messages can be parsed.

mod cmd;
mod escapees;
pub mod failpoint;
mod groups;
mod output;
mod run;

pub use cmd::{CancelToken, Cmd};
pub use escapees::{TAG_ENV, become_subreaper, end_escapees, new_escapee_tag};
pub use groups::end_leftovers;
pub use output::{Output, ProcError, Status, Stream};
