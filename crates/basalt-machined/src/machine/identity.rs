//! Node identity (persisted in STATE) and the node's addresses.

use std::path::Path;

use crate::config_source::{write_atomically, PersistError};

/// File in STATE holding the node id.
pub const NODE_ID_FILE: &str = "node-id";

/// The node id from `<state>/node-id`; on first boot a new random id (the kernel's UUID
/// generator, without dashes) is written there atomically.
pub fn load_or_create(state: &Path) -> Result<String, PersistError> {
    let file = state.join(NODE_ID_FILE);
    match std::fs::read_to_string(&file) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(PersistError::Io {
                op: "read",
                path: file,
                source,
            })
        }
    }
    let uuid_file = Path::new("/proc/sys/kernel/random/uuid");
    let id: String = std::fs::read_to_string(uuid_file)
        .map_err(|source| PersistError::Io {
            op: "read",
            path: uuid_file.to_path_buf(),
            source,
        })?
        .trim()
        .chars()
        .filter(|c| *c != '-')
        .collect();
    write_atomically(&file, format!("{id}\n").as_bytes(), 0o600)?;
    Ok(id)
}

/// Non-loopback IP addresses of this network namespace, sorted.
pub fn addresses() -> Vec<String> {
    let Ok(ifaddrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut out: Vec<String> = ifaddrs
        .filter_map(|ifa| {
            let addr = ifa.address?;
            let ip: std::net::IpAddr = if let Some(v4) = addr.as_sockaddr_in() {
                v4.ip().into()
            } else {
                addr.as_sockaddr_in6()?.ip().into()
            };
            (!ip.is_loopback()).then(|| ip.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn node_id_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = super::load_or_create(dir.path()).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(super::load_or_create(dir.path()).unwrap(), a);
    }
}
