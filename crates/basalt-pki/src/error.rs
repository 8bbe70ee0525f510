//! The one error type of this crate.
//!
//! Every message says what was wrong and, where it helps, what to do. Errors
//! about one field of a larger document (a secrets bundle, a machine config)
//! are wrapped in [`PkiError::InField`] so the message starts with the field
//! path, e.g. `certs.os.key: ...`.

use std::path::PathBuf;

/// Result alias used throughout `basalt-pki`.
pub type Result<T, E = PkiError> = std::result::Result<T, E>;

/// Everything that can go wrong while generating, loading or issuing PKI material.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// The error happened while handling one field of a larger document.
    #[error("{field}: {source}")]
    InField {
        /// Dotted path of the field, e.g. `certs.os.key`.
        field: String,
        /// What went wrong with it.
        #[source]
        source: Box<PkiError>,
    },

    /// The operating system's random number generator failed.
    #[error(
        "the system random number generator failed; check that /dev/urandom (getrandom) works"
    )]
    Random,

    /// Generating a new key pair failed.
    #[error("could not generate a {algorithm} key pair: {reason}")]
    KeyGeneration {
        /// Requested algorithm, e.g. `Ed25519`.
        algorithm: String,
        /// Underlying reason.
        reason: String,
    },

    /// The text is not PEM at all.
    #[error("{what} is not valid PEM ({reason}); expected a block starting with '-----BEGIN'")]
    Pem {
        /// What was being read, e.g. `private key`.
        what: &'static str,
        /// Underlying reason.
        reason: String,
    },

    /// A PEM block has a label this crate does not read.
    #[error("{what} has PEM label '{label}', expected one of: {expected}")]
    UnexpectedPemLabel {
        /// What was being read.
        what: &'static str,
        /// Label that was found.
        label: String,
        /// Labels that are accepted.
        expected: &'static str,
    },

    /// A private key could not be decoded.
    #[error("invalid private key: {reason}")]
    InvalidKey {
        /// What is wrong with it and what to do.
        reason: String,
    },

    /// A certificate could not be decoded.
    #[error("invalid certificate: {reason}")]
    InvalidCertificate {
        /// What is wrong with it.
        reason: String,
    },

    /// The private key does not belong to the certificate.
    #[error("the private key does not match the certificate's public key; pass the key that was generated together with this certificate")]
    KeyMismatch,

    /// A certificate that should be a CA is not one.
    #[error("the certificate (subject '{subject}') is not a certificate authority (basicConstraints CA:TRUE is missing); use the CA certificate, not a leaf")]
    NotACa {
        /// Subject of the certificate, for the message.
        subject: String,
    },

    /// A certificate signing request could not be decoded or verified.
    #[error("invalid certificate signing request: {reason}")]
    InvalidCsr {
        /// What is wrong with it.
        reason: String,
    },

    /// A value in a certificate request is not acceptable.
    #[error("invalid {field} '{value}': {reason}")]
    InvalidRequest {
        /// Request field, e.g. `dns_names`.
        field: &'static str,
        /// Offending value.
        value: String,
        /// Why it is rejected and what to do.
        reason: String,
    },

    /// Building or signing a certificate failed.
    #[error("could not sign the certificate: {reason}")]
    Signing {
        /// Underlying reason.
        reason: String,
    },

    /// A secrets bundle (or another YAML document) could not be parsed.
    #[error("invalid secrets bundle: {message}")]
    Yaml {
        /// Parser message, which includes the field path and line.
        message: String,
    },

    /// A field of a secrets bundle has a bad value.
    #[error("{field}: {reason}")]
    InvalidField {
        /// Dotted path of the field.
        field: String,
        /// Why it is rejected and what to do.
        reason: String,
    },

    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// `reading` or `writing`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// The error happened while handling one file.
    #[error("{path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What went wrong with its content.
        #[source]
        source: Box<PkiError>,
    },
}

impl PkiError {
    /// Wraps this error with the dotted path of the field it concerns.
    pub fn in_field(self, field: impl Into<String>) -> Self {
        PkiError::InField {
            field: field.into(),
            source: Box::new(self),
        }
    }

    /// Builds a [`PkiError::Signing`] from an rcgen error.
    pub(crate) fn signing(err: rcgen::Error) -> Self {
        PkiError::Signing {
            reason: err.to_string(),
        }
    }
}
