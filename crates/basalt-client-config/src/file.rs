//! [`ConfigFile`]: a [`ClientConfig`] together with the file it lives in.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::error::{known_names, Error};
use crate::model::{ClientConfig, Context};

/// Mode of the config file: it holds a private key.
const FILE_MODE: u32 = 0o600;
/// Mode of directories created for the config file.
const DIR_MODE: u32 = 0o700;

/// A client config and its path. Loading never creates files; [`ConfigFile::save`] does.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    config: ClientConfig,
}

impl ConfigFile {
    /// Reads `path`; a missing file gives an empty config (to be created by `save`).
    pub fn load(path: &Path) -> Result<Self, Error> {
        match fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Self {
                path: path.to_path_buf(),
                config: ClientConfig::default(),
            }),
            Err(source) => Err(Error::Read {
                file: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Reads `path`, which must exist (for example the file given to `config merge`).
    pub fn load_existing(path: &Path) -> Result<Self, Error> {
        match fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Err(Error::NotFound {
                file: path.to_path_buf(),
            }),
            Err(source) => Err(Error::Read {
                file: path.to_path_buf(),
                source,
            }),
        }
    }

    fn parse(path: &Path, text: &str) -> Result<Self, Error> {
        let config = ClientConfig::from_yaml(text).map_err(|source| Error::Parse {
            file: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            config,
        })
    }

    /// Wraps an in-memory config that will be saved to `path`.
    pub fn new(path: &Path, config: ClientConfig) -> Self {
        Self {
            path: path.to_path_buf(),
            config,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The config.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The config, for changing it before [`ConfigFile::save`].
    pub fn config_mut(&mut self) -> &mut ClientConfig {
        &mut self.config
    }

    /// Gives back the config.
    pub fn into_config(self) -> ClientConfig {
        self.config
    }

    /// The context to use: `name` if given (e.g. from `--context`), else the current one.
    pub fn selected(&self, name: Option<&str>) -> Result<(String, &Context), Error> {
        let name = match name.or(self.config.current_name()) {
            Some(name) => name,
            None => {
                return Err(Error::NoCurrentContext {
                    file: self.path.clone(),
                })
            }
        };
        match self.config.contexts().get(name) {
            Some(context) => Ok((name.to_string(), context)),
            None => Err(Error::UnknownContext {
                name: name.to_string(),
                known: known_names(self.config.contexts().keys()),
            }),
        }
    }

    /// Writes the config atomically: a temporary file in the same directory (mode 0600)
    /// is written and fsynced, then renamed over the target; the directory is fsynced.
    /// A missing parent directory is created with mode 0700.
    pub fn save(&self) -> Result<(), Error> {
        let text = self.config.to_yaml()?;
        write_private_file(&self.path, text.as_bytes()).map_err(|source| Error::Write {
            file: self.path.clone(),
            source,
        })
    }
}

/// Writes a file that holds secrets, atomically: a temporary file in the same directory
/// (mode 0600) is written and fsynced, then renamed over `path`; the directory is fsynced.
/// A missing parent directory is created with mode 0700. A crash leaves the old file or
/// the new one, never a torn one.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(&dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".basalt-")
        .tempfile_in(&dir)?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    fs::File::open(&dir).and_then(|d| d.sync_all())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn missing_file_loads_as_empty_and_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let file = ConfigFile::load(&path).unwrap();
        assert!(file.config().contexts().is_empty());
        assert!(!path.exists());
    }

    #[test]
    fn load_existing_reports_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = ConfigFile::load_existing(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn save_creates_private_dir_and_file_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/sub/config");
        let config = ClientConfig::with_context("demo", Context::default()).unwrap();
        ConfigFile::new(&path, config.clone()).save().unwrap();

        let file_mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        let dir_mode = fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(file_mode, 0o600);
        assert_eq!(dir_mode, 0o700);
        assert_eq!(ConfigFile::load(&path).unwrap().config(), &config);
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["config"], "temporary file left behind");
    }

    #[test]
    fn save_replaces_existing_file_and_tightens_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "context: old\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        ConfigFile::new(&path, ClientConfig::default())
            .save()
            .unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            ConfigFile::load(&path).unwrap().config().current_name(),
            None
        );
    }

    #[test]
    fn parse_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "contexts:\n  demo:\n    endpoint: [x]\n").unwrap();
        let err = ConfigFile::load(&path).unwrap_err();
        assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
        let Error::Parse { source, .. } = err else {
            panic!("expected a parse error");
        };
        assert_eq!(source.field, "contexts.demo.endpoint");
        assert_eq!(source.line, Some(3));
    }

    #[test]
    fn selected_without_current_context_says_what_to_run() {
        let file = ConfigFile::new(Path::new("/root/.basalt/config"), ClientConfig::default());
        let err = file.selected(None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no context set in /root/.basalt/config; run `basaltctl config context NAME` or `basaltctl gen config`"
        );
    }

    #[test]
    fn selected_prefers_the_override() {
        let mut config = ClientConfig::with_context("a", Context::default()).unwrap();
        config.merge(ClientConfig::with_context("b", Context::default()).unwrap());
        config.set_current("a").unwrap();
        let file = ConfigFile::new(Path::new("c"), config);
        assert_eq!(file.selected(None).unwrap().0, "a");
        assert_eq!(file.selected(Some("b")).unwrap().0, "b");
        let err = file.selected(Some("zz")).unwrap_err();
        assert!(err.to_string().contains("known contexts: a, b"), "{err}");
    }
}
