//! The Talos `v1alpha1` machine configuration document, with Talos's exact YAML spelling.
//!
//! Every struct rejects unknown keys; optional fields stay `None` when absent so that
//! load → save → load gives the same value.

mod cluster;
mod components;
mod config;
mod features;
mod install;
mod kubelet;
mod machine;
mod network;
mod pki_fields;
mod registries;
mod scalars;

pub use cluster::{
    AdminKubeconfig, ClusterConfig, ClusterNetwork, Cni, ControlPlane, InlineManifest,
};
pub use components::{
    AdmissionPlugin, ApiServer, ControllerManager, CoreDns, Discovery, DiscoveryRegistries, Etcd,
    Proxy, Resources, Scheduler, ServiceRegistry, VolumeMount,
};
pub use config::{Config, MachineType};
pub use features::{FeaturesConfig, HostDns, KubePrism, KubernetesTalosApiAccess};
pub use install::{DiskSelector, InstallConfig};
pub use kubelet::{ExtraMount, KubeletConfig, KubeletNodeIp};
pub use machine::{
    Disabled, KernelConfig, KernelModule, LoggingConfig, LoggingDestination, MachineConfig,
    MachineControlPlane, MachineFile, TimeConfig,
};
pub use network::{
    Device, DeviceSelector, DhcpOptions, ExtraHost, NetworkConfig, Route, Vip, Vlan,
};
pub use pki_fields::{Base64Pem, Base64PemError, CertAndKey, CertOnly, KeyOnly};
pub use registries::{
    RegistriesConfig, RegistryAuth, RegistryHostConfig, RegistryMirror, RegistryTls,
};
pub use scalars::{FileMode, StringMap};
