//! basalt-client-config
