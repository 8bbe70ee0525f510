//! `gen config`: builds control-plane and worker configs from a secrets bundle (being written).
