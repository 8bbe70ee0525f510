//! A small command-line flag parser for the `basalt` subcommands machined owns
//! (`machined`, `launch`): `--name VALUE` or `--name=VALUE`, plus bare words.
//!
//! Hand-rolled so that PID 1 never meets a parser that exits the process on bad input.

use std::collections::BTreeMap;

/// A command-line problem; the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// A flag this command does not know.
    #[error("unknown flag {flag} for `basalt {command}`; known flags: {known}")]
    Unknown {
        /// The subcommand.
        command: String,
        /// The flag as given.
        flag: String,
        /// The accepted flags.
        known: String,
    },
    /// A flag without its value.
    #[error("flag {flag} of `basalt {command}` needs a value: {flag} VALUE")]
    MissingValue {
        /// The subcommand.
        command: String,
        /// The flag.
        flag: String,
    },
    /// A required flag is absent.
    #[error("`basalt {command}` needs {flag} VALUE")]
    Required {
        /// The subcommand.
        command: String,
        /// The flag.
        flag: String,
    },
    /// A flag with a value that does not parse.
    #[error("bad value {value:?} for {flag} of `basalt {command}`: {reason}")]
    BadValue {
        /// The subcommand.
        command: String,
        /// The flag.
        flag: String,
        /// The value given.
        value: String,
        /// Why it is wrong.
        reason: String,
    },
}

/// Parsed flags and bare words of one subcommand.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    command: String,
    values: BTreeMap<String, String>,
    /// Words that are not flags, in order.
    pub words: Vec<String>,
}

impl Flags {
    /// Parses `args` (without the subcommand itself); `known` lists flags like `--root`.
    pub fn parse(command: &str, args: &[String], known: &[&str]) -> Result<Self, ArgsError> {
        let mut flags = Flags {
            command: command.to_string(),
            ..Flags::default()
        };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if !arg.starts_with("--") {
                flags.words.push(arg.clone());
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            if !known.contains(&name.as_str()) {
                return Err(ArgsError::Unknown {
                    command: command.to_string(),
                    flag: name,
                    known: known.join(", "),
                });
            }
            let value = match inline {
                Some(v) => v,
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| ArgsError::MissingValue {
                        command: command.to_string(),
                        flag: name.clone(),
                    })?,
            };
            flags.values.insert(name, value);
        }
        Ok(flags)
    }

    /// The value of `flag`, if given.
    pub fn get(&self, flag: &str) -> Option<&str> {
        self.values.get(flag).map(String::as_str)
    }

    /// The value of `flag`, or an error saying it is required.
    pub fn required(&self, flag: &str) -> Result<&str, ArgsError> {
        self.get(flag).ok_or_else(|| ArgsError::Required {
            command: self.command.clone(),
            flag: flag.to_string(),
        })
    }

    /// A [`ArgsError::BadValue`] for `flag`.
    pub fn bad_value(&self, flag: &str, value: &str, reason: impl Into<String>) -> ArgsError {
        ArgsError::BadValue {
            command: self.command.clone(),
            flag: flag.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn both_spellings_and_words() {
        let f = Flags::parse("x", &s(&["--a", "1", "--b=2", "w"]), &["--a", "--b"]).unwrap();
        assert_eq!(f.get("--a"), Some("1"));
        assert_eq!(f.get("--b"), Some("2"));
        assert_eq!(f.words, vec!["w"]);
        assert!(f.required("--c").is_err());
    }

    #[test]
    fn errors_name_the_flag() {
        let e = Flags::parse("x", &s(&["--zz"]), &["--a"]).unwrap_err();
        assert!(e.to_string().contains("--zz") && e.to_string().contains("--a"));
        let e = Flags::parse("x", &s(&["--a"]), &["--a"]).unwrap_err();
        assert_eq!(
            e,
            ArgsError::MissingValue {
                command: "x".into(),
                flag: "--a".into()
            }
        );
    }
}
