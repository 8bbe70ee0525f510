//! Basalt machine configuration: the Talos `v1alpha1` document, its companion documents,
//! strict decoding, semantic validation, patches and generation.

pub mod generate;
pub mod patch;
