//! One module per command group. Each exposes its clap arguments and a `run` function.

pub mod apply;
pub mod bootstrap;
pub mod cluster;
pub mod completion;
pub mod config;
pub mod duration;
pub mod etcd;
pub mod events;
pub mod gen;
pub mod get;
pub mod health;
pub mod image;
pub mod image_boot;
pub mod logs;
pub mod machineconfig;
pub mod power;
pub mod reset;
pub mod services;
pub mod stream;
pub mod validate;
pub mod version;
