//! `ResolverStatuses.net.basalt.dev`: DNS servers and search domain learned by DHCP, one
//! resource per link (id = link name) in namespace `network`.

use basalt_resources::{Column, Resource, ResourceDefinition, Spec, Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::machine::resources::OWNER;

/// Spec of a resolver status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolverStatusSpec {
    /// The link the servers were learned on.
    pub link_name: String,
    /// DNS servers, in the server's order.
    pub dns_servers: Vec<String>,
    /// Search domains (the DHCP domain name, if any).
    pub search_domains: Vec<String>,
}

impl Spec for ResolverStatusSpec {
    const TYPE: &'static str = "ResolverStatuses.net.basalt.dev";
    const NAMESPACE: &'static str = "network";
}

/// The definition (aliases `resolvers`, `resolver`).
pub fn definition() -> ResourceDefinition {
    ResourceDefinition {
        type_: ResolverStatusSpec::TYPE.to_string(),
        aliases: vec!["resolvers".into(), "resolver".into()],
        default_namespace: ResolverStatusSpec::NAMESPACE.to_string(),
        columns: vec![
            Column::new("Link", "{.linkName}"),
            Column::new("Servers", "{.dnsServers}"),
            Column::new("Search", "{.searchDomains}"),
        ],
        sensitive: false,
    }
}

/// Publishes (or, with `None`, withdraws) the resolvers learned on `link`.
pub fn publish(
    store: &Store,
    link: &str,
    spec: Option<&ResolverStatusSpec>,
) -> Result<(), StoreError> {
    store.register(definition())?;
    match spec {
        Some(spec) => store
            .apply(OWNER, Resource::from_spec(link, spec)?)
            .map(|_| ()),
        None => {
            let exists = store
                .get(
                    ResolverStatusSpec::NAMESPACE,
                    ResolverStatusSpec::TYPE,
                    link,
                )
                .is_ok();
            if exists {
                store.destroy(
                    OWNER,
                    ResolverStatusSpec::NAMESPACE,
                    ResolverStatusSpec::TYPE,
                    link,
                )?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn publish_and_withdraw() {
        let store = Store::new();
        let spec = ResolverStatusSpec {
            link_name: "eth0".into(),
            dns_servers: vec!["10.0.2.3".into()],
            search_domains: vec![],
        };
        publish(&store, "eth0", Some(&spec)).unwrap();
        let got: ResolverStatusSpec = store
            .get(
                ResolverStatusSpec::NAMESPACE,
                ResolverStatusSpec::TYPE,
                "eth0",
            )
            .unwrap()
            .spec_as()
            .unwrap();
        assert_eq!(got, spec);
        assert!(store.resolve("resolvers").is_some());
        publish(&store, "eth0", None).unwrap();
        publish(&store, "eth0", None).unwrap();
        assert!(store
            .get(
                ResolverStatusSpec::NAMESPACE,
                ResolverStatusSpec::TYPE,
                "eth0"
            )
            .is_err());
    }
}
