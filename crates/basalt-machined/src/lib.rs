//! basalt-machined (being written)
pub mod api;
pub mod config_source;
pub mod disk;
pub mod etcd;
pub mod events;
pub mod initramfs;
pub mod logs;
pub mod machine;
pub mod network;
pub mod pid1;
pub mod platform;
pub mod process;
pub mod sequencer;
pub mod supervisor;
pub mod sys;
