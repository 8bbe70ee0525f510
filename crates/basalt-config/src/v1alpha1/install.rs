//! `machine.install`.

use serde::{Deserialize, Serialize};

/// `machine.install`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InstallConfig {
    /// Target disk, e.g. `/dev/sda`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk: Option<String>,
    /// Pick the disk by attributes instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_selector: Option<DiskSelector>,
    /// Extra kernel command-line arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_kernel_args: Option<Vec<String>>,
    /// Installer image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Legacy field; accepted and ignored as Talos does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootloader: Option<bool>,
    /// Wipe the disk before installing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wipe: Option<bool>,
    /// Mark the partition bootable for legacy BIOS.
    #[serde(rename = "legacyBIOSSupport", skip_serializing_if = "Option::is_none")]
    pub legacy_bios_support: Option<bool>,
}

/// `machine.install.diskSelector`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DiskSelector {
    /// Size matcher: `4GB`, `>= 1TB` or a byte count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<serde_yaml::Value>,
    /// Disk name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Disk model (glob).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Serial number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Modalias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modalias: Option<String>,
    /// Partition table UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// WWID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wwid: Option<String>,
    /// `ssd`, `hdd`, `nvme` or `sd`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub disk_type: Option<String>,
    /// Bus path (glob).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bus_path: Option<String>,
}
