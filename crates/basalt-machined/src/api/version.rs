//! `Version` and `Hostname`.
//!
//! `VersionInfo`: `tag` is `v` + the crate version; `sha` and `built` come from the build
//! environment variables `BASALT_GIT_SHA` and `BASALT_BUILD_TIME` when the build sets them
//! (empty otherwise); `go_version` (Talos's Go toolchain field) is `rustc`; `os`/`arch` use
//! Go's names (`linux`, `amd64`, `arm64`) as Talos clients expect. `image` (a Basalt
//! extension, field 1001) is the verified image's version that `/init` handed to machined
//! (`--image-version`), empty outside a signed image.

use basalt_api::machine as m;

use super::handle::ApiHandle;

/// The version reply of this build.
pub fn version(handle: &ApiHandle) -> m::VersionResponse {
    m::VersionResponse {
        messages: vec![m::Version {
            metadata: handle.metadata(),
            version: Some(m::VersionInfo {
                image: handle.node.image_version.clone().unwrap_or_default(),
                ..version_info()
            }),
            platform: Some(m::PlatformInfo {
                name: handle.node.platform.clone(),
                mode: handle.node.platform.clone(),
            }),
            features: Some(m::FeaturesInfo {
                rbac: handle.node.rbac,
            }),
        }],
    }
}

/// This build's version.
pub fn version_info() -> m::VersionInfo {
    m::VersionInfo {
        tag: format!("v{}", env!("CARGO_PKG_VERSION")),
        sha: option_env!("BASALT_GIT_SHA")
            .unwrap_or_default()
            .to_string(),
        built: option_env!("BASALT_BUILD_TIME")
            .unwrap_or_default()
            .to_string(),
        go_version: "rustc".to_string(),
        os: std::env::consts::OS.to_string(),
        arch: go_arch(std::env::consts::ARCH).to_string(),
        image: String::new(),
    }
}

/// Go's name of a Rust target architecture.
fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// The hostname reply.
pub fn hostname(handle: &ApiHandle) -> m::HostnameResponse {
    let metadata = handle.metadata();
    let hostname = metadata
        .as_ref()
        .map(|md| md.hostname.clone())
        .unwrap_or_default();
    m::HostnameResponse {
        messages: vec![m::Hostname { metadata, hostname }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_names_follow_go() {
        assert_eq!(go_arch("x86_64"), "amd64");
        assert_eq!(go_arch("aarch64"), "arm64");
        let info = version_info();
        assert!(info.tag.starts_with('v'));
        assert_eq!(info.go_version, "rustc");
    }
}
