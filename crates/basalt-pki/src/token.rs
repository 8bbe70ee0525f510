//! Random tokens and secrets.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;

use crate::error::Result;
use crate::validity::fill_random;

const TOKEN_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const TOKEN_ID_LEN: usize = 6;
const TOKEN_SECRET_LEN: usize = 16;

/// A Kubernetes bootstrap-token shaped secret, `[a-z0-9]{6}.[a-z0-9]{16}`.
///
/// Talos uses this shape for `machine.token` (trustd) and `cluster.token`.
pub fn generate_token() -> Result<String> {
    let id = random_chars(TOKEN_ID_LEN)?;
    let secret = random_chars(TOKEN_SECRET_LEN)?;
    Ok(format!("{id}.{secret}"))
}

/// True if `token` has the bootstrap-token shape `[a-z0-9]{6}.[a-z0-9]{16}`.
pub fn is_valid_token(token: &str) -> bool {
    let valid = |part: &str, len: usize| {
        part.len() == len && part.bytes().all(|b| TOKEN_ALPHABET.contains(&b))
    };
    match token.split_once('.') {
        Some((id, secret)) => valid(id, TOKEN_ID_LEN) && valid(secret, TOKEN_SECRET_LEN),
        None => false,
    }
}

/// `len` random bytes, standard base64 with padding.
pub fn random_base64(len: usize) -> Result<String> {
    Ok(STANDARD.encode(random_bytes(len)?))
}

/// `len` random bytes, URL-safe base64 with padding (Talos's cluster id encoding).
pub(crate) fn random_base64_url(len: usize) -> Result<String> {
    Ok(URL_SAFE.encode(random_bytes(len)?))
}

fn random_bytes(len: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; len];
    fill_random(&mut bytes)?;
    Ok(bytes)
}

/// Uniformly random characters from [`TOKEN_ALPHABET`] (rejection sampling, no modulo bias).
fn random_chars(len: usize) -> Result<String> {
    // 252 is the largest multiple of 36 that fits in a byte.
    const LIMIT: u8 = 252;
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 32];
    while out.len() < len {
        fill_random(&mut buf)?;
        for b in buf.iter().filter(|b| **b < LIMIT) {
            if out.len() == len {
                break;
            }
            out.push(char::from(TOKEN_ALPHABET[usize::from(*b % 36)]));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_have_bootstrap_shape_and_differ() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert!(is_valid_token(&a), "{a}");
        assert_eq!(a.len(), 23);
        assert_eq!(&a[6..7], ".");
        assert_ne!(a, b);
    }

    #[test]
    fn token_validation() {
        assert!(is_valid_token("2psnp2.lry8e9gycdix3bpa"));
        for bad in [
            "",
            "abcdef",
            "ABCDEF.0123456789abcdef",
            "abcde.0123456789abcdefg",
            "abcdef.0123456789abcde",
            "abcdef-0123456789abcdef",
            "abcdef.0123456789abcdef.x",
        ] {
            assert!(!is_valid_token(bad), "{bad}");
        }
    }

    #[test]
    fn base64_secrets_decode_to_requested_length() {
        let s = random_base64(32).unwrap();
        assert_eq!(STANDARD.decode(&s).unwrap().len(), 32);
        let u = random_base64_url(32).unwrap();
        assert_eq!(URL_SAFE.decode(&u).unwrap().len(), 32);
        assert_ne!(random_base64(32).unwrap(), s);
    }

    #[test]
    fn all_alphabet_characters_occur() {
        let sample = random_chars(4000).unwrap();
        for c in TOKEN_ALPHABET {
            assert!(sample.as_bytes().contains(c), "{}", char::from(*c));
        }
    }
}
