//! apid (being written).
