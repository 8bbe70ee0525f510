//! The signed image manifest: what `/init` checks before it mounts the root file system.
//!
//! `manifest.json` holds the image version, the verification scheme, the sha256 and size of
//! `rootfs.sqsh` and the sha256 of the other artifacts; `manifest.sig` is the raw 64-byte
//! ed25519 signature over the exact bytes of `manifest.json`.
//!
//! Verification scheme `sha256-full`: `/init` hashes the whole `rootfs.sqsh` before mounting
//! it. It is simple and needs no dm-verity userspace or device-mapper setup; its cost is one
//! sequential read of the image at boot (measured and printed by `/init`).
//!
//! The canonical bytes are compact JSON with keys sorted (struct fields are declared in
//! alphabetical order and maps are `BTreeMap`s), so the same manifest always signs the same.
//! This module stays light (ring, sha2, serde_json) because the static `/init` links it.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The only verification scheme: full sha256 of `rootfs.sqsh` checked before mounting.
pub const VERIFICATION_SHA256_FULL: &str = "sha256-full";

/// Length of an ed25519 signature (`manifest.sig`).
pub const SIGNATURE_LEN: usize = 64;

/// The public key compiled into this binary (`BASALT_IMAGE_PUBLIC_KEY`, 64 hex characters);
/// a malformed value fails the build.
const BUILT_IN_PUBLIC_KEY: Option<[u8; 32]> = match option_env!("BASALT_IMAGE_PUBLIC_KEY") {
    Some(hex) => Some(const_hex32(hex)),
    None => None,
};

/// The image manifest. Field order is alphabetical: it is the canonical key order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// sha256 (hex) of each artifact other than the rootfs, by file name (`vmlinuz`, `cmdline`).
    pub artifacts: BTreeMap<String, String>,
    /// The root file system image.
    pub rootfs: RootfsEntry,
    /// How the rootfs is verified; always [`VERIFICATION_SHA256_FULL`].
    pub verification: String,
    /// `<basalt version>+<content hash, 12 hex>`.
    pub version: String,
}

/// Digest and size of `rootfs.sqsh`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootfsEntry {
    /// sha256 of the whole file, 64 lower-case hex characters.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// Why a manifest, its signature or the rootfs was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// This binary was built without `BASALT_IMAGE_PUBLIC_KEY`.
    #[error("no image public key is built into this basalt binary (build it with BASALT_IMAGE_PUBLIC_KEY set, as `cargo xtask image` does)")]
    NoBuiltInKey,
    /// A public key given as text is not 64 hex characters.
    #[error("image public key {0:?} is not 64 hex characters")]
    BadPublicKey(String),
    /// `manifest.sig` has the wrong length.
    #[error("manifest.sig is {0} bytes, an ed25519 signature is {SIGNATURE_LEN}")]
    SignatureLength(usize),
    /// The signature does not verify with the key.
    #[error("bad signature: manifest.json does not verify with the trusted key {key}; the manifest or its signature was altered, or the image was signed with an unknown key")]
    BadSignature {
        /// Hex of the trusted public key.
        key: String,
    },
    /// The signed bytes are not a manifest.
    #[error("malformed manifest: {0}")]
    Malformed(String),
    /// A field of the signed manifest has an invalid value.
    #[error("malformed manifest field {field}: {reason}")]
    MalformedField {
        /// Dotted field path, e.g. `rootfs.sha256`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The rootfs could not be read.
    #[error("cannot read rootfs {path}: {cause}")]
    RootfsIo {
        /// The rootfs path.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The rootfs size differs from the manifest.
    #[error("rootfs size mismatch for {path}: manifest says {expected} bytes, file has {actual}")]
    SizeMismatch {
        /// The rootfs path.
        path: PathBuf,
        /// Size in the manifest.
        expected: u64,
        /// Size found.
        actual: u64,
    },
    /// The rootfs hash differs from the manifest.
    #[error("rootfs hash mismatch for {path}: manifest says sha256 {expected}, file has {actual}")]
    HashMismatch {
        /// The rootfs path.
        path: PathBuf,
        /// sha256 in the manifest.
        expected: String,
        /// sha256 computed.
        actual: String,
    },
}

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The key is not an ed25519 PKCS#8 document.
    #[error("signing key is not an ed25519 PKCS#8 key: {0}")]
    BadKey(String),
    /// Serialization failed (does not happen for valid manifests).
    #[error("cannot serialize manifest: {0}")]
    Serialize(String),
}

impl Manifest {
    /// The canonical bytes: compact JSON, keys sorted.
    pub fn to_canonical_bytes(&self) -> Result<Vec<u8>, SignError> {
        serde_json::to_vec(self).map_err(|e| SignError::Serialize(e.to_string()))
    }

    /// Signs the canonical bytes with an ed25519 PKCS#8 key; returns (manifest.json, manifest.sig).
    pub fn sign(&self, pkcs8_key: &[u8]) -> Result<(Vec<u8>, [u8; SIGNATURE_LEN]), SignError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8_key)
            .map_err(|e| SignError::BadKey(e.to_string()))?;
        let bytes = self.to_canonical_bytes()?;
        let mut sig = [0u8; SIGNATURE_LEN];
        sig.copy_from_slice(pair.sign(&bytes).as_ref());
        Ok((bytes, sig))
    }

    /// Checks the field values (scheme, hex digests, version).
    fn validate(&self) -> Result<(), VerifyError> {
        if self.verification != VERIFICATION_SHA256_FULL {
            return Err(field(
                "verification",
                format!(
                    "{:?} is not supported (only {VERIFICATION_SHA256_FULL:?})",
                    self.verification
                ),
            ));
        }
        if self.version.trim().is_empty() {
            return Err(field("version", "is empty".to_string()));
        }
        check_sha256("rootfs.sha256", &self.rootfs.sha256)?;
        for (name, digest) in &self.artifacts {
            check_sha256(&format!("artifacts.{name}"), digest)?;
        }
        Ok(())
    }
}

/// Verifies `sig` over `manifest_bytes` with `public_key`, then parses and checks the manifest.
pub fn verify(
    manifest_bytes: &[u8],
    sig: &[u8],
    public_key: &[u8; 32],
) -> Result<Manifest, VerifyError> {
    if sig.len() != SIGNATURE_LEN {
        return Err(VerifyError::SignatureLength(sig.len()));
    }
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(manifest_bytes, sig)
        .map_err(|_| VerifyError::BadSignature {
            key: hex_encode(public_key),
        })?;
    let manifest: Manifest = serde_json::from_slice(manifest_bytes)
        .map_err(|e| VerifyError::Malformed(e.to_string()))?;
    manifest.validate()?;
    Ok(manifest)
}

/// Streams `path` through sha256 and compares size and digest with the manifest.
pub fn verify_rootfs(path: &Path, manifest: &Manifest) -> Result<(), VerifyError> {
    let io = |cause| VerifyError::RootfsIo {
        path: path.to_path_buf(),
        cause,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let expected_size = manifest.rootfs.size;
    let actual = file.metadata().map_err(io)?.len();
    if actual != expected_size {
        return Err(size_mismatch(path, expected_size, actual));
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut read_total: u64 = 0;
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        read_total += n as u64;
        hasher.update(&buf[..n]);
    }
    if read_total != expected_size {
        return Err(size_mismatch(path, expected_size, read_total));
    }
    let digest = hex_encode(&hasher.finalize());
    if !digest.eq_ignore_ascii_case(&manifest.rootfs.sha256) {
        return Err(VerifyError::HashMismatch {
            path: path.to_path_buf(),
            expected: manifest.rootfs.sha256.clone(),
            actual: digest,
        });
    }
    Ok(())
}

/// The public key compiled in from `BASALT_IMAGE_PUBLIC_KEY`, if any.
pub fn built_in_public_key() -> Option<[u8; 32]> {
    BUILT_IN_PUBLIC_KEY
}

/// Parses a 64-hex-character public key.
pub fn parse_public_key(hex: &str) -> Result<[u8; 32], VerifyError> {
    let bytes = hex_decode(hex.trim()).ok_or_else(|| VerifyError::BadPublicKey(hex.to_string()))?;
    bytes
        .try_into()
        .map_err(|_| VerifyError::BadPublicKey(hex.to_string()))
}

/// The 32-byte public key of an ed25519 PKCS#8 private key.
pub fn public_key_of(pkcs8_key: &[u8]) -> Result<[u8; 32], SignError> {
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8_key)
        .map_err(|e| SignError::BadKey(e.to_string()))?;
    let mut out = [0u8; 32];
    out.copy_from_slice(pair.public_key().as_ref());
    Ok(out)
}

/// A new random ed25519 key as a PKCS#8 (v2) document.
pub fn generate_key() -> Result<Vec<u8>, SignError> {
    let rng = ring::rand::SystemRandom::new();
    Ed25519KeyPair::generate_pkcs8(&rng)
        .map(|doc| doc.as_ref().to_vec())
        .map_err(|e| SignError::BadKey(e.to_string()))
}

/// sha256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_encode(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Bytes of an even-length hex string (either case); `None` if it is not hex.
pub fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    let pairs = hex.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

const fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Compile-time parse of the built-in key; panics (a build error) when malformed.
const fn const_hex32(hex: &str) -> [u8; 32] {
    let raw = hex.as_bytes();
    if raw.len() != 64 {
        panic!("BASALT_IMAGE_PUBLIC_KEY must be 64 hex characters");
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        match (nibble(raw[2 * i]), nibble(raw[2 * i + 1])) {
            (Some(hi), Some(lo)) => out[i] = hi << 4 | lo,
            _ => panic!("BASALT_IMAGE_PUBLIC_KEY must be 64 hex characters"),
        }
        i += 1;
    }
    out
}

fn check_sha256(name: &str, value: &str) -> Result<(), VerifyError> {
    if value.len() == 64 && value.bytes().all(|c| nibble(c).is_some()) {
        Ok(())
    } else {
        Err(field(
            name,
            format!("{value:?} is not a sha256 (64 hex characters)"),
        ))
    }
}

fn field(name: &str, reason: String) -> VerifyError {
    VerifyError::MalformedField {
        field: name.to_string(),
        reason,
    }
}

fn size_mismatch(path: &Path, expected: u64, actual: u64) -> VerifyError {
    VerifyError::SizeMismatch {
        path: path.to_path_buf(),
        expected,
        actual,
    }
}

impl fmt::Display for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "basalt image {} (rootfs {} bytes, sha256 {})",
            self.version, self.rootfs.size, self.rootfs.sha256
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_const_parse_agrees() {
        let bytes: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37)).collect();
        let hex = hex_encode(&bytes);
        assert_eq!(hex_decode(&hex), Some(bytes.clone()));
        assert_eq!(hex_decode(&hex.to_uppercase()), Some(bytes.clone()));
        assert_eq!(const_hex32(&hex).to_vec(), bytes);
        assert_eq!(hex_decode("0g"), None);
        assert_eq!(hex_decode("abc"), None);
    }
}
