//! Basalt machine configuration: the Talos `v1alpha1` document, its companion documents,
//! strict decoding, semantic validation, patches and generation.
//!
//! ```
//! # let text = "version: v1alpha1\nmachine:\n  type: worker\n  token: abc\ncluster: {}\n";
//! let cfg = basalt_config::MachineConfig::from_yaml(text).unwrap();
//! let report = basalt_config::validate::validate(&cfg, basalt_config::validate::Mode::Container);
//! assert!(!report.errors.is_empty()); // e.g. cluster.controlPlane.endpoint is missing
//! ```

pub mod decode;
pub mod document;
pub mod duration;
pub mod fuzz;
pub mod generate;
pub mod kinds;
pub mod patch;
pub mod v1alpha1;
pub mod validate;

pub use decode::{DecodeError, Located, MAX_CONFIG_BYTES};
pub use document::{Document, EncodeError, MachineConfig};
