//! basalt-resources (being written)
