//! The `machine:` section of generated configs.

use std::collections::BTreeMap;

use basalt_pki::SecretsBundle;

use super::defaults::{kubelet_image, KUBEPRISM_PORT};
use super::options::CheckedOptions;
use crate::v1alpha1::{
    Base64Pem, CertAndKey, FeaturesConfig, HostDns, InstallConfig, KubePrism, KubeletConfig,
    MachineConfig, MachineType, NetworkConfig, RegistriesConfig, StringMap,
};

/// Label that keeps control-plane nodes out of external load balancers (Talos sets it too).
const EXCLUDE_FROM_LB_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

pub(super) fn machine_section(
    role: MachineType,
    secrets: &SecretsBundle,
    opts: &CheckedOptions,
) -> MachineConfig {
    let os = &secrets.certs.os;
    let ca = CertAndKey {
        crt: Some(Base64Pem::from_pem(&os.crt)),
        // Workers get the OS CA certificate only; Talos writes an empty key for them.
        key: Some(match role {
            MachineType::ControlPlane => Base64Pem::from_pem(&os.key),
            MachineType::Worker => Base64Pem::new(""),
        }),
    };
    let node_labels = match role {
        MachineType::ControlPlane => Some(StringMap(BTreeMap::from([(
            EXCLUDE_FROM_LB_LABEL.to_string(),
            String::new(),
        )]))),
        MachineType::Worker => None,
    };
    MachineConfig {
        machine_type: match role {
            MachineType::ControlPlane => "controlplane",
            MachineType::Worker => "worker",
        }
        .to_string(),
        token: secrets.trustd_info.token.clone(),
        ca: Some(ca),
        cert_sans: Some(opts.additional_sans.clone()),
        kubelet: Some(KubeletConfig {
            image: Some(kubelet_image(&opts.kubernetes_version)),
            default_runtime_seccomp_profile_enabled: Some(true),
            disable_manifests_directory: Some(true),
            ..KubeletConfig::default()
        }),
        network: Some(NetworkConfig::default()),
        install: Some(InstallConfig {
            disk: Some(opts.install_disk.clone()),
            wipe: Some(false),
            ..InstallConfig::default()
        }),
        registries: Some(RegistriesConfig::default()),
        features: Some(FeaturesConfig {
            rbac: Some(true),
            stable_hostname: Some(true),
            apid_check_ext_key_usage: Some(true),
            disk_quota_support: Some(true),
            kube_prism: Some(KubePrism {
                enabled: Some(true),
                port: Some(KUBEPRISM_PORT),
            }),
            host_dns: Some(HostDns {
                enabled: Some(true),
                forward_kube_dns_to_host: Some(true),
                resolve_member_names: None,
            }),
            ..FeaturesConfig::default()
        }),
        node_labels,
        ..MachineConfig::default()
    }
}
