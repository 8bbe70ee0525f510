//! Taps and MAC addresses of QEMU cluster nodes.

use std::net::Ipv4Addr;

use crate::container::ip::ip;
use crate::container::ContainerError;

/// `52:54:00` (QEMU's prefix) + the last three bytes of the node's address: unique within a
/// cluster and across clusters (their CIDRs may not overlap).
pub fn mac_for(addr: Ipv4Addr) -> String {
    let [_, b, c, d] = addr.octets();
    format!("52:54:00:{b:02x}:{c:02x}:{d:02x}")
}

/// Creates the persistent tap `name` and puts it up on `bridge`.
pub fn add_tap(name: &str, bridge: &str) -> Result<(), ContainerError> {
    ip(&["tuntap", "add", "dev", name, "mode", "tap"])?;
    ip(&["link", "set", name, "master", bridge])?;
    ip(&["link", "set", name, "up"])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn mac_follows_the_address() {
        assert_eq!(mac_for(Ipv4Addr::new(10, 5, 0, 2)), "52:54:00:05:00:02");
        assert_eq!(mac_for(Ipv4Addr::new(10, 231, 7, 255)), "52:54:00:e7:07:ff");
    }
}
