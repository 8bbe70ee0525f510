//! YAML text <-> [`ClientConfig`], strictly: unknown keys, duplicate keys and bad values
//! are errors that name the field and the line.

use crate::error::{Error, ParseError};
use crate::model::ClientConfig;

impl ClientConfig {
    /// Decodes the YAML text of a client config.
    ///
    /// An empty (or whitespace/comment-only) document is an empty config.
    pub fn from_yaml(text: &str) -> Result<Self, ParseError> {
        if is_blank(text) {
            return Ok(Self::default());
        }
        let deserializer = serde_yaml::Deserializer::from_str(text);
        serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let field = err.path().to_string();
            let inner = err.into_inner();
            let location = inner.location();
            ParseError {
                message: strip_position(&field, &inner.to_string()),
                field,
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
            }
        })
    }

    /// Encodes the config as YAML (the layout `talosctl` writes).
    pub fn to_yaml(&self) -> Result<String, Error> {
        serde_yaml::to_string(self).map_err(Error::Encode)
    }
}

fn is_blank(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#')
    })
}

/// serde_yaml may prefix its own (shorter) path and appends " at line L column C"; we
/// report the field and the position separately, so keep only the message itself.
fn strip_position(field: &str, message: &str) -> String {
    let message = match message.find(" at line ") {
        Some(index) => &message[..index],
        None => message,
    };
    match message.split_once(": ") {
        Some((prefix, rest)) if !prefix.contains(' ') && field.starts_with(prefix) => {
            rest.to_string()
        }
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::Context;
    use crate::pem::PemBlob;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    fn b64() -> String {
        PemBlob::from_pem(PEM).unwrap().to_base64()
    }

    #[test]
    fn decodes_talos_layout() {
        let text = format!(
            "context: demo\ncontexts:\n    demo:\n        endpoints: [10.5.0.2]\n        nodes: [10.5.0.2, 10.5.0.3]\n        ca: {0}\n        crt: {0}\n        key: {0}\n",
            b64()
        );
        let config = ClientConfig::from_yaml(&text).unwrap();
        assert_eq!(config.current_name(), Some("demo"));
        let demo = config.context("demo").unwrap();
        assert_eq!(demo.endpoints, ["10.5.0.2"]);
        assert_eq!(demo.nodes, ["10.5.0.2", "10.5.0.3"]);
        assert_eq!(demo.crt.as_ref().unwrap().as_bytes(), PEM.as_bytes());
    }

    #[test]
    fn yaml_round_trip_is_identity() {
        let context = Context {
            endpoints: vec!["10.5.0.2".into(), "lb.example:50000".into()],
            nodes: vec!["10.5.0.3".into()],
            ca: Some(PemBlob::from_pem(PEM).unwrap()),
            crt: Some(PemBlob::from_pem(PEM).unwrap()),
            key: Some(PemBlob::from_pem(PEM).unwrap()),
        };
        let mut config = ClientConfig::with_context("demo", context).unwrap();
        config.merge(ClientConfig::with_context("other", Context::default()).unwrap());
        let text = config.to_yaml().unwrap();
        let again = ClientConfig::from_yaml(&text).unwrap();
        assert_eq!(again, config);
        assert_eq!(again.to_yaml().unwrap(), text);
    }

    #[test]
    fn empty_text_and_talos_empty_file_are_empty_configs() {
        assert_eq!(
            ClientConfig::from_yaml("").unwrap(),
            ClientConfig::default()
        );
        assert_eq!(
            ClientConfig::from_yaml("# nothing\n\n").unwrap(),
            ClientConfig::default()
        );
        let talos_empty = ClientConfig::from_yaml("context: \"\"\ncontexts: {}\n").unwrap();
        assert_eq!(talos_empty.current_name(), None);
        assert!(talos_empty.contexts().is_empty());
    }

    #[test]
    fn unknown_key_names_field_and_line() {
        let text = "context: demo\ncontexts:\n  demo:\n    endpoints: [a]\n    auth: {}\n";
        let err = ClientConfig::from_yaml(text).unwrap_err();
        assert_eq!(err.field, "contexts.demo.auth");
        assert_eq!(err.line, Some(5));
        assert!(err.message.starts_with("unknown field `auth`"), "{err}");
    }

    #[test]
    fn unknown_top_level_key_is_rejected() {
        let err = ClientConfig::from_yaml("context: a\ncurrent-context: b\n").unwrap_err();
        assert!(
            err.message.contains("unknown field `current-context`"),
            "{err}"
        );
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn bad_base64_names_the_credential_field() {
        let text = "contexts:\n  demo:\n    endpoints: []\n    crt: '%%%'\n";
        let err = ClientConfig::from_yaml(text).unwrap_err();
        assert_eq!(err.field, "contexts.demo.crt");
        assert!(err.message.contains("base64"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err = ClientConfig::from_yaml("contexts:\n  demo:\n    endpoints: 3\n").unwrap_err();
        assert_eq!(err.field, "contexts.demo.endpoints");
        assert!(!err.message.contains(" at line "), "{err}");
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err =
            ClientConfig::from_yaml("contexts:\n  a: {endpoints: []}\n  a: {endpoints: []}\n")
                .unwrap_err();
        assert!(err.message.contains("duplicate"), "{err}");
    }
}
