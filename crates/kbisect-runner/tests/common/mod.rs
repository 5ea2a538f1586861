//! Shared by the engine-level tests of this crate.
#![allow(dead_code)]

pub mod runner;
