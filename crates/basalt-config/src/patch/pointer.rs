//! RFC 6901 JSON pointers over YAML values.

use std::fmt;

use serde_yaml::Value;

/// A parsed RFC 6901 JSON pointer such as `/machine/network/interfaces/0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    text: String,
    tokens: Vec<String>,
}

impl Pointer {
    /// Parses a pointer: empty (the whole document) or `/`-separated tokens with
    /// `~1` for `/` and `~0` for `~`.
    pub fn parse(text: &str) -> Result<Pointer, String> {
        if text.is_empty() {
            return Ok(Pointer {
                text: String::new(),
                tokens: Vec::new(),
            });
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(format!(
                "pointer {text:?} must start with '/' (or be empty for the whole document)"
            ));
        };
        let tokens = rest
            .split('/')
            .map(|raw| {
                unescape(raw).ok_or_else(|| {
                    format!("pointer {text:?}: '~' must be followed by 0 or 1 in {raw:?}")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pointer {
            text: text.to_string(),
            tokens,
        })
    }

    /// The unescaped reference tokens.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The pointer as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when `self` points strictly inside `other` (e.g. `/a/b` inside `/a`).
    pub fn is_inside(&self, other: &Pointer) -> bool {
        self.tokens.len() > other.tokens.len() && self.tokens.starts_with(&other.tokens)
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str(&self.text)
        }
    }
}

fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The pointer text of the first `n` tokens, for messages.
pub(crate) fn prefix_text(tokens: &[String], n: usize) -> String {
    if n == 0 {
        return "the document root".to_string();
    }
    let parts: Vec<String> = tokens[..n]
        .iter()
        .map(|t| t.replace('~', "~0").replace('/', "~1"))
        .collect();
    format!("/{}", parts.join("/"))
}

/// Parses a list index token: `0` or digits without a leading zero.
pub(crate) fn parse_index(token: &str) -> Option<usize> {
    let digits_ok = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// Follows `tokens` from `root`, returning the value they address.
pub(crate) fn get<'a>(root: &'a Value, tokens: &[String]) -> Result<&'a Value, String> {
    let mut current = root;
    for (depth, token) in tokens.iter().enumerate() {
        current = match current {
            Value::Mapping(map) => map
                .get(token.as_str())
                .ok_or_else(|| missing_key(tokens, depth))?,
            Value::Sequence(items) => {
                let index = list_index(tokens, depth, items.len())?;
                &items[index]
            }
            other => return Err(not_container(tokens, depth, other)),
        };
    }
    Ok(current)
}

/// Mutable variant of [`get`].
pub(crate) fn get_mut<'a>(root: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, String> {
    let mut current = root;
    for (depth, token) in tokens.iter().enumerate() {
        current = match current {
            Value::Mapping(map) => map
                .get_mut(token.as_str())
                .ok_or_else(|| missing_key(tokens, depth))?,
            Value::Sequence(items) => {
                let index = list_index(tokens, depth, items.len())?;
                &mut items[index]
            }
            other => return Err(not_container(tokens, depth, other)),
        };
    }
    Ok(current)
}

/// The index addressed by `tokens[depth]` in a list of `len` items (must exist).
pub(crate) fn list_index(tokens: &[String], depth: usize, len: usize) -> Result<usize, String> {
    let token = &tokens[depth];
    let at = prefix_text(tokens, depth);
    if token == "-" {
        return Err(format!(
            "'-' (the end of the list {at}) can only be used as the last token of an add"
        ));
    }
    let index = parse_index(token)
        .ok_or_else(|| format!("{token:?} is not a list index; {at} is a list, use 0, 1, 2 …"))?;
    if index >= len {
        return Err(format!(
            "index {index} is out of range: the list {at} has {len} items"
        ));
    }
    Ok(index)
}

fn missing_key(tokens: &[String], depth: usize) -> String {
    format!(
        "no key {:?} in {}",
        tokens[depth],
        prefix_text(tokens, depth)
    )
}

fn not_container(tokens: &[String], depth: usize, value: &Value) -> String {
    format!(
        "{} is {}, not a map or list, so it has no {:?}",
        prefix_text(tokens, depth),
        kind_name(value),
        tokens[depth]
    )
}

/// A short name for the kind of a YAML value, for messages.
pub(crate) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn parses_escapes() {
        let p = Pointer::parse("/a~1b/m~0n/").unwrap();
        assert_eq!(p.tokens(), ["a/b", "m~n", ""]);
        assert!(Pointer::parse("").unwrap().tokens().is_empty());
    }

    #[test]
    fn rejects_bad_pointers() {
        assert!(Pointer::parse("a/b")
            .unwrap_err()
            .contains("must start with '/'"));
        assert!(Pointer::parse("/a~2")
            .unwrap_err()
            .contains("'~' must be followed"));
        assert!(Pointer::parse("/a~").is_err());
    }

    #[test]
    fn index_tokens() {
        assert_eq!(parse_index("0"), Some(0));
        assert_eq!(parse_index("12"), Some(12));
        assert_eq!(parse_index("01"), None);
        assert_eq!(parse_index("-1"), None);
        assert_eq!(parse_index(""), None);
    }

    #[test]
    fn get_follows_maps_and_lists() {
        let doc = yaml("a: {b: [x, {c: 1}]}\n'': empty\n'k/l': slash\n");
        let p = Pointer::parse("/a/b/1/c").unwrap();
        assert_eq!(get(&doc, p.tokens()).unwrap(), &yaml("1"));
        assert_eq!(
            get(&doc, Pointer::parse("/").unwrap().tokens()).unwrap(),
            &yaml("empty")
        );
        assert_eq!(
            get(&doc, Pointer::parse("/k~1l").unwrap().tokens()).unwrap(),
            &yaml("slash")
        );
    }

    #[test]
    fn get_errors_say_where() {
        let doc = yaml("a: {b: [x]}\n");
        let err = get(&doc, Pointer::parse("/a/z").unwrap().tokens()).unwrap_err();
        assert_eq!(err, "no key \"z\" in /a");
        let err = get(&doc, Pointer::parse("/a/b/3").unwrap().tokens()).unwrap_err();
        assert_eq!(err, "index 3 is out of range: the list /a/b has 1 items");
        let err = get(&doc, Pointer::parse("/a/b/0/q").unwrap().tokens()).unwrap_err();
        assert!(err.contains("/a/b/0 is a string"), "{err}");
        let err = get(&doc, Pointer::parse("/a/b/-").unwrap().tokens()).unwrap_err();
        assert!(err.contains("can only be used"), "{err}");
    }

    #[test]
    fn inside() {
        let a = Pointer::parse("/a").unwrap();
        let ab = Pointer::parse("/a/b").unwrap();
        assert!(ab.is_inside(&a));
        assert!(!a.is_inside(&a));
        assert!(!a.is_inside(&ab));
    }
}
