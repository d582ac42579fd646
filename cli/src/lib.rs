//! The command-line client's parts; `main` parses the command line and runs one.

pub mod album;
pub mod client;
pub mod config;
pub mod failure;
pub mod json;
pub mod lyrics;
pub mod reads;
