pub mod runner;
pub mod scripted;
