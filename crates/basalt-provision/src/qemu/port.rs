//! Picking a free TCP port on the loopback address for a host forward.

use std::net::{Ipv4Addr, TcpListener};

use super::QemuError;

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it; we released it).
///
/// Another process may take it before QEMU binds it; QEMU then fails to start with
/// "Could not set up host forwarding rule", which [`super::Vm`] reports.
pub fn free_local_port() -> Result<u16, QemuError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(QemuError::NoFreePort)?;
    let port = listener.local_addr().map_err(QemuError::NoFreePort)?.port();
    Ok(port)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn picked_port_is_bindable() {
        let port = free_local_port().unwrap();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
    }
}
