//! One module per command group. Each exposes its clap arguments and a `run` function.

pub mod completion;
pub mod config;
pub mod gen;
pub mod machineconfig;
pub mod validate;
pub mod version;
