//! Errors of this crate. Each message says what is wrong, where, and what to do.

use std::path::PathBuf;

/// A problem found while decoding the YAML text of a client config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location_prefix(.field, .line, .column))]
pub struct ParseError {
    /// Dotted path of the offending field (`contexts.demo.crt`), empty for the document root.
    pub field: String,
    /// 1-based line, when the decoder knows it.
    pub line: Option<usize>,
    /// 1-based column, when the decoder knows it.
    pub column: Option<usize>,
    /// What the decoder reported, without the position.
    pub message: String,
}

fn location_prefix(field: &str, line: &Option<usize>, column: &Option<usize>) -> String {
    let mut out = String::new();
    if !field.is_empty() && field != "." {
        out.push_str(&format!("field `{field}`"));
    }
    if let (Some(line), Some(column)) = (line, column) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("(line {line}, column {column})"));
    }
    if !out.is_empty() {
        out.push_str(": ");
    }
    out
}

/// Everything that can go wrong when reading, changing or writing a client config.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file exists but is not a valid client config.
    #[error("{} is not a valid client config (fix it, or point --basaltconfig at another file)", file.display())]
    Parse {
        /// The file that was read.
        file: PathBuf,
        /// Where in the file and what.
        #[source]
        source: ParseError,
    },
    /// The file could not be read.
    #[error("cannot read {}", file.display())]
    Read {
        /// The file that was read.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file that must exist does not.
    #[error("{} does not exist; check the path", file.display())]
    NotFound {
        /// The missing file.
        file: PathBuf,
    },
    /// The file (or its directory) could not be written.
    #[error("cannot write {}", file.display())]
    Write {
        /// The file being written.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Encoding the config as YAML failed (a bug: every value is encodable).
    #[error("cannot encode the client config as YAML")]
    Encode(#[source] serde_yaml::Error),
    /// No current context is selected.
    #[error("no context set in {}; run `basaltctl config context NAME` or `basaltctl gen config`", file.display())]
    NoCurrentContext {
        /// The config file consulted.
        file: PathBuf,
    },
    /// A context name that the config does not define.
    #[error("context \"{name}\" is not defined; known contexts: {known}")]
    UnknownContext {
        /// The name asked for.
        name: String,
        /// Comma-separated list of defined names (or a hint when there are none).
        known: String,
    },
    /// `add` of a name that already exists.
    #[error("context \"{name}\" already exists; choose another name, or replace its credentials with `basaltctl config add {name} --replace ...`")]
    DuplicateContext {
        /// The existing name.
        name: String,
    },
    /// `remove` of the current context.
    #[error("cannot remove context \"{name}\" because it is the current context; switch first with `basaltctl config context OTHER`")]
    RemoveCurrent {
        /// The current context.
        name: String,
    },
    /// A context name that cannot be used.
    #[error("invalid context name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// An endpoint or node list that cannot be used.
    #[error("invalid {what}: {reason}")]
    InvalidAddresses {
        /// `endpoints` or `nodes`.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// Renders the list of defined context names for error messages.
pub(crate) fn known_names<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none (add one with `basaltctl config add` or `basaltctl config merge FILE`)".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_shows_field_and_position() {
        let err = ParseError {
            field: "contexts.demo".into(),
            line: Some(5),
            column: Some(9),
            message: "unknown field `foo`".into(),
        };
        assert_eq!(
            err.to_string(),
            "field `contexts.demo` (line 5, column 9): unknown field `foo`"
        );
    }

    #[test]
    fn parse_error_without_field_or_position_is_just_the_message() {
        let err = ParseError {
            field: String::new(),
            line: None,
            column: None,
            message: "bad".into(),
        };
        assert_eq!(err.to_string(), "bad");
    }
}
