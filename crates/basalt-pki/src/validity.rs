//! Validity windows and serial numbers shared by CAs and leaves.

use std::time::Duration;

use rcgen::{CertificateParams, SerialNumber};
use ring::rand::{SecureRandom, SystemRandom};
use time::OffsetDateTime;

use crate::error::{PkiError, Result};

/// How far `not_before` is moved into the past, to tolerate clock skew between nodes.
pub const CLOCK_SKEW_ALLOWANCE: Duration = Duration::from_secs(60);

/// Fills `buf` from the operating system's random source.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    SystemRandom::new().fill(buf).map_err(|_| PkiError::Random)
}

/// A random, positive, 128-bit serial number.
pub(crate) fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes)?;
    // Clear the sign bit (serials are positive) and set the next one so the
    // number never starts with zero bytes and always encodes as 16 octets.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// Sets `not_before` to now minus [`CLOCK_SKEW_ALLOWANCE`], `not_after` to now
/// plus `lifetime`, and a fresh random serial.
pub(crate) fn apply(params: &mut CertificateParams, lifetime: Duration) -> Result<()> {
    if lifetime.is_zero() {
        return Err(PkiError::InvalidRequest {
            field: "lifetime",
            value: "0s".to_string(),
            reason: "a certificate needs a lifetime longer than zero".to_string(),
        });
    }
    let lifetime_err = || PkiError::InvalidRequest {
        field: "lifetime",
        value: format!("{}s", lifetime.as_secs()),
        reason: "the certificate would end after the year 9999; use a shorter lifetime".to_string(),
    };
    let now = OffsetDateTime::now_utc();
    let not_after = time::Duration::try_from(lifetime)
        .ok()
        .and_then(|d| now.checked_add(d))
        .filter(|t| t.year() <= 9999)
        .ok_or_else(lifetime_err)?;
    params.not_before = now - CLOCK_SKEW_ALLOWANCE;
    params.not_after = not_after;
    params.serial_number = Some(random_serial()?);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn window_is_backdated_and_bounded() {
        let mut params = CertificateParams::default();
        let before = OffsetDateTime::now_utc();
        apply(&mut params, Duration::from_secs(3600)).unwrap();
        let after = OffsetDateTime::now_utc();
        assert!(params.not_before >= before - CLOCK_SKEW_ALLOWANCE);
        assert!(params.not_before <= after - CLOCK_SKEW_ALLOWANCE);
        assert!(params.not_after >= before + time::Duration::hours(1));
        assert!(params.not_after <= after + time::Duration::hours(1));
    }

    #[test]
    fn zero_and_huge_lifetimes_are_rejected() {
        let mut params = CertificateParams::default();
        assert!(apply(&mut params, Duration::ZERO).is_err());
        let err = apply(&mut params, Duration::from_secs(u64::MAX)).unwrap_err();
        assert!(err.to_string().contains("shorter lifetime"), "{err}");
    }

    #[test]
    fn serials_are_positive_and_distinct() {
        let a = random_serial().unwrap().to_bytes();
        let b = random_serial().unwrap().to_bytes();
        assert_eq!(a.len(), 16);
        assert_eq!(a[0] & 0xc0, 0x40);
        assert_ne!(a, b);
    }
}
