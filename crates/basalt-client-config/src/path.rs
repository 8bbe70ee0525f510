//! Where the client config lives: `--basaltconfig`, else `$BASALTCONFIG`, else `~/.basalt/config`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Name of the environment variable that overrides the default path.
pub const ENV_VAR: &str = "BASALTCONFIG";

/// The inputs of path resolution, captured once so that [`ConfigPath::resolve`] is pure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPath {
    /// Value of `$BASALTCONFIG` (empty counts as unset).
    pub env: Option<OsString>,
    /// The user's home directory.
    pub home: Option<PathBuf>,
}

impl ConfigPath {
    /// Captures `$BASALTCONFIG` and `$HOME` from the process environment.
    pub fn from_env() -> Self {
        Self {
            env: std::env::var_os(ENV_VAR),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    /// The config path: `flag` wins, then `$BASALTCONFIG`, then `HOME/.basalt/config`.
    /// Without any of them (no home directory) the relative path `.basalt/config` is used.
    pub fn resolve(&self, flag: Option<&Path>) -> PathBuf {
        if let Some(flag) = flag.filter(|f| !f.as_os_str().is_empty()) {
            return flag.to_path_buf();
        }
        if let Some(env) = self.env.as_ref().filter(|e| !e.is_empty()) {
            return PathBuf::from(env);
        }
        let home = self
            .home
            .as_ref()
            .filter(|h| !h.as_os_str().is_empty())
            .cloned()
            .unwrap_or_default();
        home.join(".basalt").join("config")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(env: Option<&str>, home: Option<&str>) -> ConfigPath {
        ConfigPath {
            env: env.map(OsString::from),
            home: home.map(PathBuf::from),
        }
    }

    #[test]
    fn default_is_under_home() {
        let path = inputs(None, Some("/home/u")).resolve(None);
        assert_eq!(path, Path::new("/home/u/.basalt/config"));
    }

    #[test]
    fn env_beats_default() {
        let path = inputs(Some("/etc/b.yaml"), Some("/home/u")).resolve(None);
        assert_eq!(path, Path::new("/etc/b.yaml"));
    }

    #[test]
    fn flag_beats_env() {
        let path = inputs(Some("/etc/b.yaml"), Some("/home/u")).resolve(Some(Path::new("x")));
        assert_eq!(path, Path::new("x"));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let path = inputs(Some(""), Some("/home/u")).resolve(Some(Path::new("")));
        assert_eq!(path, Path::new("/home/u/.basalt/config"));
    }

    #[test]
    fn no_home_falls_back_to_relative_path() {
        assert_eq!(
            inputs(None, None).resolve(None),
            Path::new(".basalt/config")
        );
    }
}
