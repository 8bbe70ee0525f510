//! Defaults `gen config` uses when a flag is not given (Talos's defaults where they exist).

/// Kubernetes version of the generated control plane and kubelet images.
pub const DEFAULT_KUBERNETES_VERSION: &str = "1.34.1";
/// Disk the node installs to in metal mode.
pub const DEFAULT_INSTALL_DISK: &str = "/dev/sda";
/// Kubernetes DNS domain.
pub const DEFAULT_DNS_DOMAIN: &str = "cluster.local";
/// Pod network.
pub const DEFAULT_POD_SUBNET: &str = "10.244.0.0/16";
/// Service network.
pub const DEFAULT_SERVICE_SUBNET: &str = "10.96.0.0/12";
/// KubePrism's local port.
pub const KUBEPRISM_PORT: u32 = 7445;

/// Registry of the kubelet image.
pub const KUBELET_IMAGE: &str = "ghcr.io/siderolabs/kubelet";
/// Registry of the upstream control-plane images.
pub const KUBERNETES_REGISTRY: &str = "registry.k8s.io";

/// `image:tag` for a control-plane component (`kube-apiserver`, …).
pub fn component_image(component: &str, version: &str) -> String {
    format!("{KUBERNETES_REGISTRY}/{component}:v{version}")
}

/// The kubelet image for a Kubernetes version.
pub fn kubelet_image(version: &str) -> String {
    format!("{KUBELET_IMAGE}:v{version}")
}
