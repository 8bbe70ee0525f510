//! basalt-api (being written)
