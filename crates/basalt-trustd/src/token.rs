//! The token check: `machine.token` compared in constant time.
//!
//! Both sides are hashed with SHA-256 first, so the comparison takes the same time
//! whatever the lengths and contents; the hashes are then compared without an early exit.

use sha2::{Digest, Sha256};

/// The expected token, kept as its SHA-256 digest (the token itself is not kept).
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    digest: [u8; 32],
    empty: bool,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// The token `text` (`machine.token`).
    pub fn new(text: &str) -> Self {
        Token {
            digest: Sha256::digest(text.as_bytes()).into(),
            empty: text.is_empty(),
        }
    }

    /// Whether `presented` equals the token (an empty token never matches).
    pub fn matches(&self, presented: &[u8]) -> bool {
        let other: [u8; 32] = Sha256::digest(presented).into();
        let diff = self
            .digest
            .iter()
            .zip(other.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        diff == 0 && !self.empty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_same_token() {
        let token = Token::new("abcdef.0123456789abcdef");
        assert!(token.matches(b"abcdef.0123456789abcdef"));
        assert!(!token.matches(b"abcdef.0123456789abcdee"));
        assert!(!token.matches(b""));
        assert!(!token.matches(b"abcdef.0123456789abcdef "));
        assert!(!Token::new("").matches(b""));
        assert_eq!(format!("{token:?}"), "Token(..)");
    }
}
