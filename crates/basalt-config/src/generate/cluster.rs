//! The `cluster:` section of generated configs.

use basalt_pki::{CertAndKeyPem, SecretsBundle};

use super::defaults::{
    component_image, DEFAULT_DNS_DOMAIN, DEFAULT_POD_SUBNET, DEFAULT_SERVICE_SUBNET,
};
use super::options::CheckedOptions;
use crate::v1alpha1::{
    AdmissionPlugin, ApiServer, Base64Pem, CertAndKey, ClusterConfig, ClusterNetwork, ControlPlane,
    ControllerManager, Disabled, Discovery, DiscoveryRegistries, Etcd, KeyOnly, MachineType, Proxy,
    Scheduler, ServiceRegistry,
};

pub(super) fn cluster_section(
    role: MachineType,
    secrets: &SecretsBundle,
    opts: &CheckedOptions,
) -> ClusterConfig {
    let common = ClusterConfig {
        id: Some(secrets.cluster.id.clone()),
        secret: Some(secrets.cluster.secret.clone()),
        control_plane: Some(ControlPlane {
            endpoint: opts.endpoint.clone(),
            local_api_server_port: None,
        }),
        cluster_name: Some(opts.cluster_name.clone()),
        network: Some(ClusterNetwork {
            cni: None,
            dns_domain: Some(DEFAULT_DNS_DOMAIN.to_string()),
            pod_subnets: Some(vec![DEFAULT_POD_SUBNET.to_string()]),
            service_subnets: Some(vec![DEFAULT_SERVICE_SUBNET.to_string()]),
        }),
        token: Some(secrets.secrets.bootstrap_token.clone()),
        discovery: Some(Discovery {
            enabled: Some(true),
            registries: Some(DiscoveryRegistries {
                kubernetes: Some(Disabled {
                    disabled: Some(true),
                }),
                service: Some(ServiceRegistry::default()),
            }),
        }),
        ..ClusterConfig::default()
    };
    match role {
        MachineType::Worker => ClusterConfig {
            ca: Some(cert_only(&secrets.certs.k8s)),
            ..common
        },
        MachineType::ControlPlane => control_plane_cluster(common, secrets, opts),
    }
}

fn control_plane_cluster(
    common: ClusterConfig,
    secrets: &SecretsBundle,
    opts: &CheckedOptions,
) -> ClusterConfig {
    let version = &opts.kubernetes_version;
    let mut api_sans = vec![opts.endpoint_host.clone()];
    for san in &opts.additional_sans {
        if !api_sans.contains(san) {
            api_sans.push(san.clone());
        }
    }
    ClusterConfig {
        secretbox_encryption_secret: secrets.secrets.secretbox_encryption_secret.clone(),
        aescbc_encryption_secret: secrets.secrets.aescbc_encryption_secret.clone(),
        ca: Some(cert_and_key(&secrets.certs.k8s)),
        aggregator_ca: Some(cert_and_key(&secrets.certs.k8s_aggregator)),
        service_account: Some(KeyOnly {
            key: Some(Base64Pem::from_pem(&secrets.certs.k8s_service_account.key)),
        }),
        api_server: Some(ApiServer {
            image: Some(component_image("kube-apiserver", version)),
            cert_sans: Some(api_sans),
            disable_pod_security_policy: Some(true),
            admission_control: Some(vec![pod_security_admission()]),
            audit_policy: Some(audit_policy()),
            ..ApiServer::default()
        }),
        controller_manager: Some(ControllerManager {
            image: Some(component_image("kube-controller-manager", version)),
            ..ControllerManager::default()
        }),
        proxy: Some(Proxy {
            image: Some(component_image("kube-proxy", version)),
            ..Proxy::default()
        }),
        scheduler: Some(Scheduler {
            image: Some(component_image("kube-scheduler", version)),
            ..Scheduler::default()
        }),
        etcd: Some(Etcd {
            ca: Some(cert_and_key(&secrets.certs.etcd)),
            ..Etcd::default()
        }),
        extra_manifests: Some(Vec::new()),
        inline_manifests: Some(Vec::new()),
        ..common
    }
}

fn cert_and_key(pair: &CertAndKeyPem) -> CertAndKey {
    CertAndKey {
        crt: Some(Base64Pem::from_pem(&pair.crt)),
        key: Some(Base64Pem::from_pem(&pair.key)),
    }
}

/// The certificate with an empty key, as Talos writes it on workers.
fn cert_only(pair: &CertAndKeyPem) -> CertAndKey {
    CertAndKey {
        crt: Some(Base64Pem::from_pem(&pair.crt)),
        key: Some(Base64Pem::new("")),
    }
}

/// Pod Security admission with the defaults Talos ships: enforce baseline, warn/audit restricted.
fn pod_security_admission() -> AdmissionPlugin {
    let configuration = serde_yaml::from_str(
        "apiVersion: pod-security.admission.config.k8s.io/v1alpha1\n\
         kind: PodSecurityConfiguration\n\
         defaults:\n  enforce: baseline\n  enforce-version: latest\n  audit: restricted\n  audit-version: latest\n  warn: restricted\n  warn-version: latest\n\
         exemptions:\n  usernames: []\n  runtimeClasses: []\n  namespaces: [kube-system]\n",
    )
    .ok();
    AdmissionPlugin {
        name: "PodSecurity".to_string(),
        configuration,
    }
}

/// The API server audit policy: metadata for every request.
fn audit_policy() -> serde_yaml::Value {
    serde_yaml::from_str("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n")
        .unwrap_or(serde_yaml::Value::Null)
}
