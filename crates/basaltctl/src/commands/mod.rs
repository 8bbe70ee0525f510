//! One module per command group. Each exposes its clap arguments and a `run` function.

pub mod completion;
pub mod config;
pub mod version;
