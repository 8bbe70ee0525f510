//! basalt-machined (being written)
