//! Plain-scalar resolution (YAML 1.2 core schema, integers as Go's `strconv.ParseInt(s, 0, 64)`).

use super::tree::is_null_text;

/// What a plain scalar means.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str,
}

/// Resolves a plain scalar's text.
pub(crate) fn resolve(text: &str) -> Resolved {
    if is_null_text(text) {
        return Resolved::Null;
    }
    match text {
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Resolved::Int(i);
    }
    match parse_float(text) {
        Some(f) => Resolved::Float(f),
        None => Resolved::Str,
    }
}

/// Parses an integer like Go's `strconv.ParseInt(s, 0, 64)` after removing `_`.
pub(crate) fn parse_int(text: &str) -> Option<i128> {
    let cleaned = text.replace('_', "");
    let (negative, rest) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    let (radix, digits) = if let Some(d) = rest.strip_prefix("0x").or(rest.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = rest.strip_prefix("0o").or(rest.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = rest.strip_prefix("0b").or(rest.strip_prefix("0B")) {
        (2, d)
    } else if rest.len() > 1 && rest.starts_with('0') {
        (8, &rest[1..])
    } else {
        (10, rest)
    };
    if digits.is_empty() || digits.len() > 40 || !digits.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let value = i128::from_str_radix(digits, radix).ok()?;
    Some(if negative { -value } else { value })
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let allowed = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !allowed || !text.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_go() {
        assert_eq!(parse_int("0644"), Some(0o644));
        assert_eq!(parse_int("0o644"), Some(0o644));
        assert_eq!(parse_int("0x1F"), Some(31));
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("12a"), None);
        assert_eq!(parse_int("+-1"), None);
    }

    #[test]
    fn resolution() {
        assert_eq!(resolve("~"), Resolved::Null);
        assert_eq!(resolve("True"), Resolved::Bool(true));
        assert_eq!(resolve("yes"), Resolved::Str);
        assert_eq!(resolve("1.5"), Resolved::Float(1.5));
        assert_eq!(resolve("10.0.0.1"), Resolved::Str);
        assert_eq!(resolve("inf"), Resolved::Str);
    }
}
