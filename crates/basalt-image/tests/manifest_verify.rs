//! Signed manifest: a good manifest verifies; every kind of tampering is refused with the
//! error that names it.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use basalt_image::manifest::{
    self, generate_key, public_key_of, sha256_hex, verify, verify_rootfs, Manifest, RootfsEntry,
    VerifyError, VERIFICATION_SHA256_FULL,
};

fn rootfs_bytes() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn manifest_for(rootfs: &[u8]) -> Manifest {
    let mut artifacts = BTreeMap::new();
    artifacts.insert("vmlinuz".to_string(), sha256_hex(b"kernel"));
    artifacts.insert("cmdline".to_string(), sha256_hex(b"console=ttyS0"));
    Manifest {
        version: "0.1.0+0123456789ab".to_string(),
        verification: VERIFICATION_SHA256_FULL.to_string(),
        rootfs: RootfsEntry {
            sha256: sha256_hex(rootfs),
            size: rootfs.len() as u64,
        },
        artifacts,
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn good_manifest_and_rootfs_verify() {
    let key = generate_key().unwrap();
    let public = public_key_of(&key).unwrap();
    let rootfs = rootfs_bytes();
    let m = manifest_for(&rootfs);
    let (bytes, sig) = m.sign(&key).unwrap();
    let back = verify(&bytes, &sig, &public).unwrap();
    assert_eq!(back, m);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "rootfs.sqsh", &rootfs);
    verify_rootfs(&path, &back).unwrap();
}

#[test]
fn canonical_bytes_are_compact_with_sorted_keys_and_stable() {
    let key = generate_key().unwrap();
    let m = manifest_for(b"x");
    let (a, _) = m.sign(&key).unwrap();
    let (b, _) = m.clone().sign(&key).unwrap();
    assert_eq!(a, b);
    let text = String::from_utf8(a).unwrap();
    let pos = |k: &str| text.find(&format!("\"{k}\"")).unwrap();
    assert!(pos("artifacts") < pos("rootfs"));
    assert!(pos("rootfs") < pos("verification"));
    assert!(pos("verification") < pos("version"));
    assert!(pos("cmdline") < pos("vmlinuz"));
    assert!(pos("sha256") < pos("size"));
    assert!(!text.contains(' ') && !text.contains('\n'), "{text}");
}

#[test]
fn flipped_byte_in_manifest_is_a_bad_signature() {
    let key = generate_key().unwrap();
    let public = public_key_of(&key).unwrap();
    let (bytes, sig) = manifest_for(b"rootfs").sign(&key).unwrap();
    for at in [0, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        let err = verify(&bad, &sig, &public).unwrap_err();
        assert!(
            matches!(err, VerifyError::BadSignature { .. }),
            "{at}: {err}"
        );
        assert!(err.to_string().contains("bad signature"), "{err}");
    }
}

#[test]
fn flipped_byte_in_signature_is_a_bad_signature() {
    let key = generate_key().unwrap();
    let public = public_key_of(&key).unwrap();
    let (bytes, sig) = manifest_for(b"rootfs").sign(&key).unwrap();
    for at in [0, 31, 32, 63] {
        let mut bad = sig;
        bad[at] ^= 0x80;
        let err = verify(&bytes, &bad, &public).unwrap_err();
        assert!(matches!(err, VerifyError::BadSignature { .. }), "{err}");
    }
    let err = verify(&bytes, &sig[..63], &public).unwrap_err();
    assert!(matches!(err, VerifyError::SignatureLength(63)), "{err}");
}

#[test]
fn signature_from_another_key_is_refused_naming_the_trusted_key() {
    let signer = generate_key().unwrap();
    let trusted = public_key_of(&generate_key().unwrap()).unwrap();
    let (bytes, sig) = manifest_for(b"rootfs").sign(&signer).unwrap();
    let err = verify(&bytes, &sig, &trusted).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(&manifest::hex_encode(&trusted)), "{text}");
    assert!(text.contains("unknown key"), "{text}");
}

#[test]
fn flipped_byte_in_rootfs_at_several_offsets_is_a_hash_mismatch() {
    let key = generate_key().unwrap();
    let public = public_key_of(&key).unwrap();
    let rootfs = rootfs_bytes();
    let (bytes, sig) = manifest_for(&rootfs).sign(&key).unwrap();
    let m = verify(&bytes, &sig, &public).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let len = rootfs.len();
    for at in [0, 1, 4095, len / 2, len - 2, len - 1] {
        let mut bad = rootfs.clone();
        bad[at] ^= 0x01;
        let path = write(dir.path(), "rootfs.sqsh", &bad);
        let err = verify_rootfs(&path, &m).unwrap_err();
        match &err {
            VerifyError::HashMismatch {
                expected, actual, ..
            } => {
                assert_eq!(expected, &m.rootfs.sha256);
                assert_eq!(actual, &sha256_hex(&bad));
            }
            other => panic!("offset {at}: expected a hash mismatch, got {other}"),
        }
        let text = err.to_string();
        assert!(text.contains(&m.rootfs.sha256) && text.contains(&sha256_hex(&bad)));
    }
}

#[test]
fn truncated_or_extended_rootfs_is_a_size_mismatch() {
    let rootfs = rootfs_bytes();
    let m = manifest_for(&rootfs);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "short.sqsh", &rootfs[..rootfs.len() - 1]);
    let err = verify_rootfs(&path, &m).unwrap_err();
    assert!(
        matches!(err, VerifyError::SizeMismatch { expected, actual, .. }
            if expected == rootfs.len() as u64 && actual == expected - 1),
        "{err}"
    );
    let mut long = rootfs.clone();
    long.push(0);
    let path = write(dir.path(), "long.sqsh", &long);
    let err = verify_rootfs(&path, &m).unwrap_err();
    assert!(matches!(err, VerifyError::SizeMismatch { .. }), "{err}");
    let err = verify_rootfs(&dir.path().join("missing"), &m).unwrap_err();
    assert!(matches!(err, VerifyError::RootfsIo { .. }), "{err}");
}

#[test]
fn malformed_fields_are_named_even_when_signed() {
    let key = generate_key().unwrap();
    let public = public_key_of(&key).unwrap();
    let mut m = manifest_for(b"r");
    m.rootfs.sha256 = "abc".to_string();
    let (bytes, sig) = m.sign(&key).unwrap();
    let err = verify(&bytes, &sig, &public).unwrap_err();
    assert!(
        matches!(&err, VerifyError::MalformedField { field, .. } if field == "rootfs.sha256"),
        "{err}"
    );
    let mut m = manifest_for(b"r");
    m.verification = "dm-verity".to_string();
    let (bytes, sig) = m.sign(&key).unwrap();
    let err = verify(&bytes, &sig, &public).unwrap_err();
    assert!(
        matches!(&err, VerifyError::MalformedField { field, .. } if field == "verification"),
        "{err}"
    );
    let mut m = manifest_for(b"r");
    m.artifacts.insert("vmlinuz".to_string(), "zz".to_string());
    let (bytes, sig) = m.sign(&key).unwrap();
    let err = verify(&bytes, &sig, &public).unwrap_err();
    assert!(err.to_string().contains("artifacts.vmlinuz"), "{err}");
}

#[test]
fn signed_garbage_is_malformed_not_accepted() {
    let key = generate_key().unwrap();
    let public = public_key_of(&key).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(&key).unwrap();
    for body in [
        &b"not json"[..],
        br#"{"artifacts":{},"rootfs":{"sha256":"00","size":1},"verification":"sha256-full"}"#,
        br#"{"artifacts":{},"extra":1,"rootfs":{"sha256":"00","size":1},"verification":"sha256-full","version":"v"}"#,
    ] {
        let sig = pair.sign(body);
        let err = verify(body, sig.as_ref(), &public).unwrap_err();
        assert!(matches!(err, VerifyError::Malformed(_)), "{err}");
    }
}

#[test]
fn public_key_parsing() {
    let key = generate_key().unwrap();
    let public = public_key_of(&key).unwrap();
    let hex = manifest::hex_encode(&public);
    assert_eq!(manifest::parse_public_key(&hex).unwrap(), public);
    assert!(manifest::parse_public_key(&hex[..62]).is_err());
    assert!(manifest::parse_public_key("zz").is_err());
    // This test binary is built without BASALT_IMAGE_PUBLIC_KEY unless the environment sets it.
    if option_env!("BASALT_IMAGE_PUBLIC_KEY").is_none() {
        assert_eq!(manifest::built_in_public_key(), None);
    }
}
