//! Builders: turn a revision into an artifact and its signature.

mod command;
mod errors;
mod signature;

pub use command::{CommandBuilder, CommandBuilderConfig};
pub use errors::extract_failure;
pub use signature::dir_signature;
