//! `machine.network`.

use serde::{Deserialize, Serialize};

/// `machine.network`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkConfig {
    /// Static hostname.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Interface settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interfaces: Option<Vec<Device>>,
    /// DNS servers (IPs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nameservers: Option<Vec<String>>,
    /// DNS search domains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_domains: Option<Vec<String>>,
    /// Extra `/etc/hosts` entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_host_entries: Option<Vec<ExtraHost>>,
    /// Do not derive a search domain from the hostname.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_search_domain: Option<bool>,
}

/// `machine.network.extraHostEntries[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtraHost {
    /// IP address.
    #[serde(default)]
    pub ip: String,
    /// Names for it.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// `machine.network.interfaces[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Device {
    /// Interface name, e.g. `eth0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// Pick the link by attributes instead of by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_selector: Option<DeviceSelector>,
    /// Static addresses in CIDR form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<String>>,
    /// Deprecated single address (Talos still accepts it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    /// Static routes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<Route>>,
    /// VLANs on top of this link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlans: Option<Vec<Vlan>>,
    /// Link MTU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Use DHCP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcp: Option<bool>,
    /// Leave the link alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore: Option<bool>,
    /// Create a dummy link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dummy: Option<bool>,
    /// DHCP options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcp_options: Option<DhcpOptions>,
    /// Shared virtual IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip: Option<Vip>,
}

/// `deviceSelector`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeviceSelector {
    /// PCI/USB bus path (glob).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bus_path: Option<String>,
    /// MAC address (glob).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardware_addr: Option<String>,
    /// Permanent MAC address (glob).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permanent_addr: Option<String>,
    /// PCI vendor:device ID (glob).
    #[serde(rename = "pciID", skip_serializing_if = "Option::is_none")]
    pub pci_id: Option<String>,
    /// Kernel driver (glob).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Physical links only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical: Option<bool>,
}

/// `routes[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Route {
    /// Destination CIDR (empty or `0.0.0.0/0` for default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Gateway IP (empty for a link-scope route).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Source address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Route metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    /// Route MTU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

/// `vlans[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Vlan {
    /// Static addresses in CIDR form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<String>>,
    /// Deprecated single address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    /// Static routes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<Route>>,
    /// Use DHCP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcp: Option<bool>,
    /// VLAN ID.
    #[serde(default)]
    pub vlan_id: u16,
    /// MTU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Shared virtual IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip: Option<Vip>,
    /// DHCP options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcp_options: Option<DhcpOptions>,
}

/// `dhcpOptions`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DhcpOptions {
    /// Metric of DHCP routes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_metric: Option<u32>,
    /// DHCPv4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<bool>,
    /// DHCPv6.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<bool>,
    /// DHCPv6 DUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duidv6: Option<String>,
}

/// `vip`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Vip {
    /// The shared IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}
