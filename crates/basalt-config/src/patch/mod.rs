//! Strategic-merge and RFC 6902 JSON patches for machine configs (being written).
