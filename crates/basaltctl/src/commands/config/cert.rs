//! Reads what `config info` shows from a client certificate: roles and expiry.

use anyhow::{anyhow, Context as _};
use time::OffsetDateTime;

/// Roles (the certificate's Organization values) and expiry of a client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// Subject Organization values, e.g. `os:admin`.
    pub roles: Vec<String>,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

/// Parses the first certificate in `pem`.
pub fn summarize(pem: &[u8]) -> anyhow::Result<CertSummary> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem)
        .map_err(|e| anyhow!("{e}"))
        .context("the client certificate is not valid PEM")?;
    let cert = block
        .parse_x509()
        .map_err(|e| anyhow!("{e}"))
        .context("the client certificate is not a valid X.509 certificate")?;
    let roles = cert
        .subject()
        .iter_organization()
        .map(|attr| {
            attr.as_str()
                .map(str::to_string)
                .map_err(|e| anyhow!("the certificate's Organization is not text: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(CertSummary {
        roles,
        not_after: cert.validity().not_after.to_datetime(),
    })
}

/// `2026-01-31`.
pub fn date(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

/// How far `at` is from `now`: "29 days from now", "3 hours ago".
pub fn relative(at: OffsetDateTime, now: OffsetDateTime) -> String {
    let delta = at - now;
    let (amount, suffix) = if delta.is_negative() {
        (-delta, "ago")
    } else {
        (delta, "from now")
    };
    let (count, unit) = if amount.whole_days() >= 730 {
        (amount.whole_days() / 365, "year")
    } else if amount.whole_days() >= 2 {
        (amount.whole_days(), "day")
    } else if amount.whole_hours() >= 1 {
        (amount.whole_hours(), "hour")
    } else {
        (amount.whole_minutes(), "minute")
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural} {suffix}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::Duration;

    #[test]
    fn relative_picks_a_readable_unit() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(relative(now + Duration::days(29), now), "29 days from now");
        assert_eq!(relative(now - Duration::hours(3), now), "3 hours ago");
        assert_eq!(
            relative(now + Duration::days(3650), now),
            "10 years from now"
        );
        assert_eq!(
            relative(now + Duration::minutes(1), now),
            "1 minute from now"
        );
    }

    #[test]
    fn date_is_iso() {
        assert_eq!(date(OffsetDateTime::UNIX_EPOCH), "1970-01-01");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = summarize(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .unwrap_err();
        assert!(format!("{err:#}").contains("X.509"), "{err:#}");
    }
}
