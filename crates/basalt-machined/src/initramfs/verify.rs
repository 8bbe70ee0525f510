//! Image verification before anything from the image is used: the manifest signature with
//! the built-in key, then the full sha256 and size of `/rootfs.sqsh`.

use std::path::Path;
use std::time::Instant;

use basalt_image::manifest::{self, Manifest, VerifyError};

use super::{BootError, Env};

/// The signed manifest in the initramfs.
pub const MANIFEST: &str = "/manifest.json";
/// Its raw 64-byte ed25519 signature.
pub const SIGNATURE: &str = "/manifest.sig";
/// The root file system image.
pub const ROOTFS: &str = "/rootfs.sqsh";

/// Verifies manifest and rootfs under [`Env::root`]; prints what was verified and how long
/// the rootfs hash took.
pub fn verify_image(env: &mut Env<'_>) -> Result<Manifest, BootError> {
    let key = env.public_key.ok_or(VerifyError::NoBuiltInKey)?;
    let bytes = read(&env.file(MANIFEST))?;
    let sig = read(&env.file(SIGNATURE))?;
    let manifest = manifest::verify(&bytes, &sig, &key)?;
    let start = Instant::now();
    manifest::verify_rootfs(&env.file(ROOTFS), &manifest)?;
    let ms = start.elapsed().as_millis();
    env.say(format_args!(
        "verified {manifest} with key {}... in {ms} ms",
        &manifest::hex_encode(&key)[..16]
    ));
    Ok(manifest)
}

fn read(path: &Path) -> Result<Vec<u8>, BootError> {
    std::fs::read(path).map_err(|cause| BootError::ImageFile {
        path: path.to_path_buf(),
        cause,
    })
}
