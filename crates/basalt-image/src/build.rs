//! The whole image build: fetch → unpack → static basalt → rootfs → SquashFS → manifest +
//! signature → initramfs. Each finished step is reported with its elapsed time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::ImageError;
use crate::inputs::Inputs;
use crate::manifest::{Manifest, RootfsEntry, VERIFICATION_SHA256_FULL};
use crate::{binary, fetch, initramfs, kernel, keys, kmods, rootfs, squashfs};

/// Where the build reads from and writes to.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The workspace root (holds `Cargo.toml`, `image/inputs.yaml`).
    pub workspace: PathBuf,
    /// The pinned inputs file (normally `<workspace>/image/inputs.yaml`).
    pub inputs: PathBuf,
    /// Where the artifacts go (normally `<workspace>/target/image`).
    pub out_dir: PathBuf,
    /// Where downloaded .debs are kept (normally `<workspace>/target/image-cache`).
    pub cache_dir: PathBuf,
    /// The ed25519 PKCS#8 signing key; created (0600) when missing.
    pub signing_key: PathBuf,
}

impl BuildOptions {
    /// The standard locations under `workspace`, with the given signing key.
    pub fn standard(workspace: &Path, signing_key: PathBuf) -> BuildOptions {
        BuildOptions {
            workspace: workspace.to_path_buf(),
            inputs: workspace.join("image/inputs.yaml"),
            out_dir: workspace.join("target/image"),
            cache_dir: workspace.join("target/image-cache"),
            signing_key,
        }
    }
}

/// One finished build step.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    /// Time this step took.
    pub took: Duration,
    /// Time since the build started.
    pub elapsed: Duration,
}

/// What was built.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// `<basalt version>+<content hash>`.
    pub version: String,
    /// The signing public key (hex), compiled into the basalt binary.
    pub public_key: String,
    /// True when the signing key was created by this build.
    pub key_created: bool,
    /// Artifact name → (path, size in bytes), in a fixed order.
    pub artifacts: Vec<(String, PathBuf, u64)>,
    /// Kernel modules in load order.
    pub modules: Vec<String>,
    pub steps: Vec<Step>,
}

/// Names of the artifacts in `out_dir`.
pub const ARTIFACTS: &[&str] = &[
    "rootfs.sqsh",
    "initramfs.img",
    "vmlinuz",
    "cmdline",
    "manifest.json",
    "manifest.sig",
];

/// Builds every artifact into `options.out_dir`, calling `progress` after each step.
pub fn build(
    options: &BuildOptions,
    progress: &mut dyn FnMut(&Step),
) -> Result<BuildReport, ImageError> {
    let start = Instant::now();
    let mut steps = Vec::new();
    let mut last = Instant::now();
    let mut done = |name: String| {
        let step = Step {
            name,
            took: last.elapsed(),
            elapsed: start.elapsed(),
        };
        progress(&step);
        steps.push(step);
        last = Instant::now();
    };

    let inputs = Inputs::load(&options.inputs)?;
    let (pkcs8, public, key_created) = keys::load_or_create(&options.signing_key)?;
    let public_hex = crate::hex(&public);
    done(format!(
        "signing key {} ({})",
        options.signing_key.display(),
        if key_created { "created" } else { "existing" }
    ));

    std::fs::create_dir_all(&options.out_dir)
        .map_err(|e| ImageError::io("create", &options.out_dir, e))?;
    std::fs::create_dir_all(&options.cache_dir)
        .map_err(|e| ImageError::io("create", &options.cache_dir, e))?;
    let work = tempfile::Builder::new()
        .prefix(".build-")
        .tempdir_in(&options.cache_dir)
        .map_err(|e| ImageError::io("create a folder in", &options.cache_dir, e))?;
    let mut trees = BTreeMap::new();
    for package in &inputs.packages {
        let deb = fetch::fetch(package, &options.cache_dir)?;
        let tree = fetch::unpacked(package, &deb, &options.cache_dir)?;
        trees.insert(package.name.clone(), tree);
    }
    let unpacked = |name: &str| trees.get(name).cloned().unwrap_or_default();
    done(format!(
        "fetched + unpacked {} pinned .debs",
        inputs.packages.len()
    ));

    let basalt = binary::build_static(&options.workspace, &public_hex)?;
    done(format!("static basalt binary {}", basalt.display()));

    let root = work.path().join("rootfs");
    rootfs::assemble(&root, &basalt, &inputs.packages, &unpacked)?;
    let rootfs_path = options.out_dir.join("rootfs.sqsh");
    squashfs::pack(&root, &rootfs_path)?;
    done("rootfs.sqsh (mksquashfs, zstd)".into());

    let kernel_dir = unpacked(&inputs.kernel.package);
    let release = &inputs.kernel.release;
    let vmlinuz = options.out_dir.join("vmlinuz");
    std::fs::copy(kernel::vmlinuz(&kernel_dir, release)?, &vmlinuz)
        .map_err(|e| ImageError::io("write", &vmlinuz, e))?;
    let cmdline_path = options.out_dir.join("cmdline");
    let cmdline = kernel::cmdline(&inputs.kernel.cmdline);
    std::fs::write(&cmdline_path, &cmdline)
        .map_err(|e| ImageError::io("write", &cmdline_path, e))?;
    let modules = kmods::resolve(
        &kernel::modules_dir(&kernel_dir, release)?,
        &inputs.kernel.modules,
    )?;
    done(format!(
        "vmlinuz, cmdline, {} modules resolved",
        modules.len()
    ));

    let (rootfs_sha, rootfs_size) = crate::sha256_file(&rootfs_path)?;
    let (vmlinuz_sha, _) = crate::sha256_file(&vmlinuz)?;
    let mut artifacts = BTreeMap::new();
    artifacts.insert("vmlinuz".to_string(), vmlinuz_sha);
    artifacts.insert("cmdline".to_string(), crate::sha256_hex(cmdline.as_bytes()));
    let version = image_version(&rootfs_sha, &artifacts);
    let manifest = Manifest {
        artifacts,
        rootfs: RootfsEntry {
            sha256: rootfs_sha,
            size: rootfs_size,
        },
        verification: VERIFICATION_SHA256_FULL.to_string(),
        version: version.clone(),
    };
    let (json, sig) = manifest
        .sign(&pkcs8)
        .map_err(|e| ImageError::Manifest(e.to_string()))?;
    for (name, bytes) in [("manifest.json", &json[..]), ("manifest.sig", &sig[..])] {
        let path = options.out_dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| ImageError::io("write", &path, e))?;
    }
    done(format!("manifest signed, version {version}"));

    let contents = initramfs::Contents {
        init: &basalt,
        release,
        modules: &modules,
        rootfs: &rootfs_path,
        manifest_json: &json,
        manifest_sig: &sig,
    };
    initramfs::write(
        &contents,
        work.path(),
        &options.out_dir.join("initramfs.img"),
    )?;
    done("initramfs.img (newc cpio, zstd)".into());

    let mut listed = Vec::new();
    for name in ARTIFACTS {
        let path = options.out_dir.join(name);
        let size = std::fs::metadata(&path)
            .map_err(|e| ImageError::io("stat", &path, e))?
            .len();
        listed.push((name.to_string(), path, size));
    }
    Ok(BuildReport {
        version,
        public_key: public_hex,
        key_created,
        artifacts: listed,
        modules: modules.into_iter().map(|m| m.name).collect(),
        steps,
    })
}

/// `<basalt version>+<first 12 hex of sha256 over the rootfs and artifact digests>`.
pub fn image_version(rootfs_sha: &str, artifacts: &BTreeMap<String, String>) -> String {
    let mut text = format!("rootfs.sqsh {rootfs_sha}\n");
    for (name, digest) in artifacts {
        text.push_str(&format!("{name} {digest}\n"));
    }
    let hash = crate::sha256_hex(text.as_bytes());
    format!("{}+{}", crate::BASALT_VERSION, &hash[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_basalt_version_plus_12_hex_and_content_dependent() {
        let mut artifacts = BTreeMap::new();
        artifacts.insert("vmlinuz".to_string(), "a".repeat(64));
        let a = image_version(&"b".repeat(64), &artifacts);
        let b = image_version(&"c".repeat(64), &artifacts);
        assert_ne!(a, b);
        let (base, hash) = a.split_once('+').unwrap_or_default();
        assert_eq!(base, crate::BASALT_VERSION);
        assert_eq!(hash.len(), 12);
    }
}
