//! Go-style durations on the command line (`30s`, `1m`, `2h30m`, `8760h`, `500ms`),
//! as talosctl takes them.

use std::time::Duration;

/// Parses a Go duration (`30s`, `10m`, `1h30m`, `8760h`, `1.5h`).
pub fn parse(text: &str) -> Result<Duration, String> {
    basalt_config::duration::parse_go_duration(text)
        .ok_or_else(|| format!("invalid duration {text:?}: use e.g. 30s, 10m, 1h30m or 8760h"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn go_forms() {
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse("2h30m").unwrap(), Duration::from_secs(9000));
        assert_eq!(parse("8760h").unwrap(), Duration::from_secs(8760 * 3600));
        assert_eq!(parse("1500ms").unwrap(), Duration::from_millis(1500));
        for bad in ["", "10", "h", "1d", "-1s"] {
            assert!(
                parse(bad).unwrap_err().contains("invalid duration"),
                "{bad}"
            );
        }
    }
}
