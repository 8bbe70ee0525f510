//! Re-wrapping private keys between the DER shapes Talos, OpenSSL and ring use.
//!
//! * ring (and therefore rcgen) reads and writes PKCS#8; for Ed25519 it writes
//!   the v2 shape that also carries the public key.
//! * Talos (Go's `x509.MarshalPKCS8PrivateKey`) writes Ed25519 keys as PKCS#8 v1
//!   (seed only) under the label `ED25519 PRIVATE KEY`.
//! * Talos writes ECDSA keys as SEC1 (`EC PRIVATE KEY`, RFC 5915) with the
//!   curve parameters and the public key embedded; Go refuses SEC1 keys whose
//!   curve parameters are missing.

use super::der::{self, Reader};

/// Content octets of the OID 1.3.101.112 (id-Ed25519).
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// Content octets of the OID 1.2.840.10045.2.1 (id-ecPublicKey).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// Content octets of the OID 1.2.840.10045.3.1.7 (prime256v1 / P-256).
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The pieces of a PKCS#8 `PrivateKeyInfo` this crate needs.
struct Pkcs8<'a> {
    /// OIDs inside the algorithm identifier (algorithm, then parameters if an OID).
    algorithm: &'a [u8],
    parameters: Option<&'a [u8]>,
    /// Content of the `privateKey` OCTET STRING.
    private_key: &'a [u8],
}

fn parse_pkcs8(input: &[u8]) -> Result<Pkcs8<'_>, String> {
    let mut outer = Reader::new(input);
    let mut info = Reader::new(outer.expect(der::SEQUENCE, "PKCS#8 PrivateKeyInfo")?);
    info.expect(der::INTEGER, "PKCS#8 version")?;
    let mut alg_id = Reader::new(info.expect(der::SEQUENCE, "PKCS#8 algorithm")?);
    let algorithm = alg_id.expect(der::OID, "PKCS#8 algorithm OID")?;
    let parameters = match alg_id.peek_tag() {
        Some(der::OID) => Some(alg_id.expect(der::OID, "PKCS#8 curve OID")?),
        _ => None,
    };
    let private_key = info.expect(der::OCTET_STRING, "PKCS#8 private key")?;
    Ok(Pkcs8 {
        algorithm,
        parameters,
        private_key,
    })
}

/// Which of the supported algorithms a PKCS#8 document holds, if any.
pub(crate) fn pkcs8_is_ed25519(input: &[u8]) -> bool {
    parse_pkcs8(input).is_ok_and(|p| p.algorithm == OID_ED25519)
}

/// Rewrites an Ed25519 PKCS#8 key (v1 or v2) as PKCS#8 v1, the shape Go and OpenSSL write.
pub(crate) fn ed25519_pkcs8_v1(pkcs8: &[u8]) -> Result<Vec<u8>, String> {
    let parsed = parse_pkcs8(pkcs8)?;
    if parsed.algorithm != OID_ED25519 {
        return Err("the PKCS#8 key is not an Ed25519 key".to_string());
    }
    let version = der::encode(der::INTEGER, &[0]);
    let alg_id = der::sequence(&[&der::encode(der::OID, OID_ED25519)]);
    let private_key = der::encode(der::OCTET_STRING, parsed.private_key);
    Ok(der::sequence(&[&version, &alg_id, &private_key]))
}

/// Rewrites a P-256 PKCS#8 key as SEC1 `ECPrivateKey` with curve and public key embedded.
///
/// `public_key` is the uncompressed point (0x04 || X || Y).
pub(crate) fn ec_pkcs8_to_sec1(pkcs8: &[u8], public_key: &[u8]) -> Result<Vec<u8>, String> {
    let parsed = parse_pkcs8(pkcs8)?;
    if parsed.algorithm != OID_EC_PUBLIC_KEY || parsed.parameters != Some(OID_P256) {
        return Err("the PKCS#8 key is not an ECDSA P-256 key".to_string());
    }
    let mut inner = Reader::new(parsed.private_key);
    let mut ec_key = Reader::new(inner.expect(der::SEQUENCE, "ECPrivateKey")?);
    ec_key.expect(der::INTEGER, "ECPrivateKey version")?;
    let scalar = ec_key.expect(der::OCTET_STRING, "ECPrivateKey private key")?;
    Ok(sec1_document(scalar, Some(OID_P256), public_key))
}

/// Rewrites a SEC1 `ECPrivateKey` (label `EC PRIVATE KEY`) as PKCS#8 for ring.
pub(crate) fn ec_sec1_to_pkcs8(sec1: &[u8]) -> Result<Vec<u8>, String> {
    let mut outer = Reader::new(sec1);
    let mut ec_key = Reader::new(outer.expect(der::SEQUENCE, "ECPrivateKey")?);
    let version = ec_key.expect(der::INTEGER, "ECPrivateKey version")?;
    if version != [1] {
        return Err("ECPrivateKey version must be 1".to_string());
    }
    let scalar = ec_key.expect(der::OCTET_STRING, "ECPrivateKey private key")?;
    let mut public_key = None;
    while !ec_key.is_empty() {
        let field = ec_key.next_tlv()?;
        match field.tag {
            der::CONTEXT_0 => {
                let curve = Reader::new(field.value).expect(der::OID, "ECPrivateKey curve")?;
                if curve != OID_P256 {
                    return Err(
                        "only the P-256 (prime256v1) curve is supported; generate the key with \
                         `openssl ecparam -name prime256v1 -genkey`"
                            .to_string(),
                    );
                }
            }
            der::CONTEXT_1 => {
                let bits = Reader::new(field.value).expect(der::BIT_STRING, "public key")?;
                public_key = Some(bits);
            }
            other => return Err(format!("unexpected ECPrivateKey field tag 0x{other:02x}")),
        }
    }
    // The bit string content starts with the "unused bits" byte, which must be 0.
    let point = match public_key {
        Some([0, point @ ..]) => point,
        Some(_) => return Err("malformed public key bit string".to_string()),
        None => {
            return Err(
                "the EC private key does not embed its public key; re-export it with \
                        `openssl ec -in KEY -out KEY`"
                    .to_string(),
            )
        }
    };
    let inner = sec1_document(scalar, None, point);
    let version = der::encode(der::INTEGER, &[0]);
    let alg_id = der::sequence(&[
        &der::encode(der::OID, OID_EC_PUBLIC_KEY),
        &der::encode(der::OID, OID_P256),
    ]);
    let private_key = der::encode(der::OCTET_STRING, &inner);
    Ok(der::sequence(&[&version, &alg_id, &private_key]))
}

fn sec1_document(scalar: &[u8], curve: Option<&[u8]>, public_key: &[u8]) -> Vec<u8> {
    let version = der::encode(der::INTEGER, &[1]);
    let scalar = der::encode(der::OCTET_STRING, scalar);
    let curve = curve
        .map(|oid| der::encode(der::CONTEXT_0, &der::encode(der::OID, oid)))
        .unwrap_or_default();
    let bits = [&[0u8][..], public_key].concat();
    let public_key = der::encode(der::CONTEXT_1, &der::encode(der::BIT_STRING, &bits));
    der::sequence(&[&version, &scalar, &curve, &public_key])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ed25519_v1_has_go_shape() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let v1 = ed25519_pkcs8_v1(key.serialized_der()).unwrap();
        // SEQUENCE(46) { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING(32) } }
        assert_eq!(v1.len(), 48);
        assert_eq!(
            &v1[..16],
            &[
                0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
                0x04, 0x20
            ]
        );
        assert!(pkcs8_is_ed25519(&v1));
    }

    #[test]
    fn ec_round_trip_keeps_the_key() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let sec1 = ec_pkcs8_to_sec1(key.serialized_der(), key.public_key_raw()).unwrap();
        let pkcs8 = ec_sec1_to_pkcs8(&sec1).unwrap();
        let back = rcgen::KeyPair::try_from(pkcs8.as_slice()).unwrap();
        assert_eq!(back.public_key_raw(), key.public_key_raw());
        assert!(!pkcs8_is_ed25519(&pkcs8));
    }

    #[test]
    fn ec_wrong_algorithm_is_rejected() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let err = ec_pkcs8_to_sec1(key.serialized_der(), key.public_key_raw()).unwrap_err();
        assert!(err.contains("P-256"), "{err}");
    }

    #[test]
    fn sec1_without_public_key_is_rejected_with_advice() {
        let sec1 = der::sequence(&[
            &der::encode(der::INTEGER, &[1]),
            &der::encode(der::OCTET_STRING, &[9u8; 32]),
        ]);
        let err = ec_sec1_to_pkcs8(&sec1).unwrap_err();
        assert!(err.contains("openssl ec"), "{err}");
    }

    #[test]
    fn sec1_other_curve_is_rejected() {
        let p384 = [0x2b, 0x81, 0x04, 0x00, 0x22];
        let sec1 = der::sequence(&[
            &der::encode(der::INTEGER, &[1]),
            &der::encode(der::OCTET_STRING, &[9u8; 48]),
            &der::encode(der::CONTEXT_0, &der::encode(der::OID, &p384)),
        ]);
        let err = ec_sec1_to_pkcs8(&sec1).unwrap_err();
        assert!(err.contains("P-256"), "{err}");
    }
}
