//! Entry point for fuzzing: decode and validate arbitrary bytes.

use crate::validate::{validate, Mode};
use crate::MachineConfig;

/// Decodes `data` as a machine config and, if that works, validates it in both modes and
/// writes it back as YAML. Never panics; all errors are ignored.
pub fn decode_and_validate(data: &[u8]) {
    let Ok(cfg) = MachineConfig::from_bytes(data) else {
        return;
    };
    let _ = validate(&cfg, Mode::Metal);
    let _ = validate(&cfg, Mode::Container);
    if let Ok(text) = cfg.to_yaml() {
        let _ = MachineConfig::from_yaml(&text);
    }
}
