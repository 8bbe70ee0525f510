//! machined itself: arguments, the main loop and the handle the API server uses.

pub mod apid_service;
pub mod args;
pub mod config_apply;
mod handle;
pub mod identity;
pub mod image_services;
mod options;
pub mod resources;
mod run;
pub mod trustd_service;

pub use handle::MachineHandle;
pub use options::MachinedOptions;
pub use run::{assemble, main, EVENT_HISTORY, READY_TIMEOUT};
