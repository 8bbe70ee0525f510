//! basalt-pki
