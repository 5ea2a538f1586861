//! The `command` builder: the user's build command run in kbisect's own
//! worktree with the revision checked out, the artifact whatever it leaves
//! in `$KBISECT_OUT`, its signature the hash of those files. With no build
//! command, the artifact is the revision's source tree itself.
//!
//! Also the pieces any builder can reuse: extracting a failed build's error
//! lines and guilty file ([`extract_failure`]), and hashing an artifact
//! directory ([`dir_signature`]).

#![warn(missing_docs)]

mod command;
mod errors;
mod signature;
mod slots;

pub use command::{CONFIG_FILE, CommandBuilder, CommandBuilderConfig};
pub use errors::{extract_failure, is_environment_failure};
pub use signature::dir_signature;
pub use slots::{extra_slot_worktrees, slot_worktree};
