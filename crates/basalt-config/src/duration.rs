//! Go-style durations (`500ms`, `30s`, `1h30m`, `1.5h`, `8760h0m0s`), as Talos configs and
//! talosctl flags write them. One parser for the config, the CLI, apid and machined.

use std::time::Duration;

/// Units Go accepts, longest spelling first so `ms` wins over `m`.
const UNITS: &[(&str, f64)] = &[
    ("ns", 1e-9),
    ("us", 1e-6),
    ("µs", 1e-6),
    ("ms", 1e-3),
    ("h", 3600.0),
    ("m", 60.0),
    ("s", 1.0),
];

/// Parses a non-negative Go duration: one or more `<number><unit>` (the number may have a
/// fraction), or a bare `0`. Returns `None` for anything else, including negative values.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let body = text.strip_prefix('+').unwrap_or(text);
    if body == "0" {
        return Some(Duration::ZERO);
    }
    if body.is_empty() {
        return None;
    }
    let mut rest = body;
    let mut seconds = 0.0_f64;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..end];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[end..];
        let (unit, scale) = UNITS.iter().find(|(u, _)| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        seconds += value * scale;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn go_forms() {
        let ok = |t: &str| parse_go_duration(t).unwrap();
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("2h30m"), Duration::from_secs(9000));
        assert_eq!(ok("8760h0m0s"), Duration::from_secs(8760 * 3600));
        assert_eq!(ok("1.5h"), Duration::from_secs(5400));
        assert_eq!(ok("+1m"), Duration::from_secs(60));
        assert_eq!(ok("250us"), Duration::from_micros(250));
        for bad in ["", "10", "h", "1d", "-1s", "1..5s", ".s", "1s2", "s1"] {
            assert_eq!(parse_go_duration(bad), None, "{bad:?}");
        }
    }
}
