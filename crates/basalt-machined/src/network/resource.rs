//! `AddressStatuses.net.basalt.dev`: the addresses machined configured (static, or learned by
//! DHCP), one resource per `<link>/<cidr>` (e.g. `eth0/10.5.0.2/24`) in namespace `network`.

use basalt_resources::{Column, Resource, ResourceDefinition, Spec, Store, StoreError};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::machine::resources::OWNER;

/// Spec of an address status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressStatusSpec {
    /// The address in CIDR form, e.g. `10.5.0.2/24`.
    pub address: String,
    /// The link carrying it, e.g. `eth0`.
    pub link_name: String,
    /// Where it comes from.
    #[serde(default)]
    pub source: AddressSource,
}

/// Where an address comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressSource {
    /// `machine.network.interfaces[].addresses`.
    #[default]
    Static,
    /// A DHCP lease.
    Dhcp,
}

impl Spec for AddressStatusSpec {
    const TYPE: &'static str = "AddressStatuses.net.basalt.dev";
    const NAMESPACE: &'static str = "network";
}

impl AddressStatusSpec {
    /// The spec for the static address `net` on `link`.
    pub fn new(link: &str, net: &IpNet) -> Self {
        AddressStatusSpec {
            address: net.to_string(),
            link_name: link.to_string(),
            source: AddressSource::Static,
        }
    }

    /// The spec for the DHCP-learned `cidr` on `link`.
    pub fn dhcp(link: &str, cidr: &str) -> Self {
        AddressStatusSpec {
            address: cidr.to_string(),
            link_name: link.to_string(),
            source: AddressSource::Dhcp,
        }
    }

    /// The resource id: `<link>/<cidr>`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.link_name, self.address)
    }
}

/// The definition (aliases `addresses`, `address`).
pub fn definition() -> ResourceDefinition {
    ResourceDefinition {
        type_: AddressStatusSpec::TYPE.to_string(),
        aliases: vec!["addresses".into(), "address".into()],
        default_namespace: AddressStatusSpec::NAMESPACE.to_string(),
        columns: vec![
            Column::new("Address", "{.address}"),
            Column::new("Link", "{.linkName}"),
            Column::new("Source", "{.source}"),
        ],
        sensitive: false,
    }
}

/// The static address statuses machined published earlier.
pub fn published(store: &Store) -> Vec<AddressStatusSpec> {
    published_from(store, AddressSource::Static)
}

/// The address statuses from `source` machined published earlier.
pub fn published_from(store: &Store, source: AddressSource) -> Vec<AddressStatusSpec> {
    store
        .list(AddressStatusSpec::NAMESPACE, AddressStatusSpec::TYPE)
        .into_iter()
        .filter(|r| r.metadata.owner == OWNER)
        .filter_map(|r| r.spec_as::<AddressStatusSpec>().ok())
        .filter(|s| s.source == source)
        .collect()
}

/// Makes the published static statuses exactly `configured`: applies each, destroys the other
/// static ones (DHCP statuses are left alone).
pub fn publish(store: &Store, configured: &[AddressStatusSpec]) -> Result<(), StoreError> {
    publish_from(store, AddressSource::Static, configured)
}

/// Makes the published statuses from `source` exactly `configured`.
pub fn publish_from(
    store: &Store,
    source: AddressSource,
    configured: &[AddressStatusSpec],
) -> Result<(), StoreError> {
    store.register(definition())?;
    for old in published_from(store, source) {
        if !configured.contains(&old) {
            store.destroy(
                OWNER,
                AddressStatusSpec::NAMESPACE,
                AddressStatusSpec::TYPE,
                &old.id(),
            )?;
        }
    }
    for spec in configured {
        store.apply(OWNER, Resource::from_spec(spec.id(), spec)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn publish_replaces_stale_statuses() {
        let store = Store::new();
        let a = AddressStatusSpec::new("eth0", &"10.5.0.2/24".parse().unwrap());
        let b = AddressStatusSpec::new("eth0", &"10.5.0.3/24".parse().unwrap());
        assert_eq!(a.id(), "eth0/10.5.0.2/24");
        publish(&store, &[a.clone(), b.clone()]).unwrap();
        publish(&store, std::slice::from_ref(&b)).unwrap();
        assert_eq!(published(&store), vec![b]);
        let def = store.resolve("addresses").unwrap();
        assert_eq!(def.type_, AddressStatusSpec::TYPE);
        assert!(store.resolve("address").is_some());
    }
}
