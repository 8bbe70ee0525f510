//! `VolumeStatuses.runtime.basalt.dev`: where STATE and EPHEMERAL are (ids `STATE`,
//! `EPHEMERAL`, namespace `runtime`).

use basalt_resources::{Column, Resource, ResourceDefinition, Spec, Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::machine::resources::OWNER;

/// How a volume came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum VolumeOrigin {
    /// The partition existed.
    Found,
    /// The partition was created and formatted at this boot.
    Created,
    /// No disk (or the partition would not mount): an in-memory tmpfs.
    Tmpfs,
}

/// Spec of a volume status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeStatusSpec {
    /// Partition device (e.g. `/dev/vda1`), or `tmpfs`.
    pub device: String,
    /// `ext4` or `tmpfs`.
    pub filesystem: String,
    /// Partition size in bytes (0 for tmpfs).
    pub size_bytes: u64,
    /// Where it is (or will be) mounted, e.g. `/system/state`.
    pub mount_point: String,
    /// Found, created or tmpfs.
    pub origin: VolumeOrigin,
    /// Whether it is mounted now.
    pub mounted: bool,
}

impl Spec for VolumeStatusSpec {
    const TYPE: &'static str = "VolumeStatuses.runtime.basalt.dev";
    const NAMESPACE: &'static str = "runtime";
}

/// The definition (aliases `volumes`, `volume`).
pub fn definition() -> ResourceDefinition {
    ResourceDefinition {
        type_: VolumeStatusSpec::TYPE.to_string(),
        aliases: vec!["volumes".into(), "volume".into()],
        default_namespace: VolumeStatusSpec::NAMESPACE.to_string(),
        columns: vec![
            Column::new("Device", "{.device}"),
            Column::new("Filesystem", "{.filesystem}"),
            Column::new("Size", "{.sizeBytes}"),
            Column::new("Mount Point", "{.mountPoint}"),
            Column::new("Origin", "{.origin}"),
            Column::new("Mounted", "{.mounted}"),
        ],
        sensitive: false,
    }
}

/// Publishes the status of volume `id` (`STATE` or `EPHEMERAL`).
pub fn publish(store: &Store, id: &str, spec: &VolumeStatusSpec) -> Result<(), StoreError> {
    store.register(definition())?;
    store.apply(OWNER, Resource::from_spec(id, spec)?)?;
    Ok(())
}

/// The published status of volume `id`, if any.
pub fn published(store: &Store, id: &str) -> Option<VolumeStatusSpec> {
    store
        .get(VolumeStatusSpec::NAMESPACE, VolumeStatusSpec::TYPE, id)
        .ok()?
        .spec_as()
        .ok()
}
