//! `basalt machined` options.

use std::path::PathBuf;

use super::args::{ArgsError, Flags};
use crate::config_source::{config_argument, maintenance_ca_argument};
use crate::platform::{Mode, Paths};

/// How machined was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachinedOptions {
    /// `--platform container|metal`.
    pub mode: Mode,
    /// `basalt.config=PATH` among the arguments (container mode; metal mode reads the
    /// kernel command line at `initialize`).
    pub config_argument: Option<PathBuf>,
    /// `basalt.maintenance-ca=PATH` among the arguments (container mode; metal mode reads
    /// the kernel command line).
    pub maintenance_ca: Option<PathBuf>,
    /// The basalt binary (for `basalt runner`): argv[0] when absolute, else `/usr/bin/basalt`.
    pub exe: PathBuf,
    /// `--image-version V`: the verified image's version, passed by `/init` in metal mode.
    pub image_version: Option<String>,
}

impl MachinedOptions {
    /// Parses the arguments after `machined`; `argv0` is the program path as started.
    pub fn parse(argv0: &str, args: &[String]) -> Result<Self, ArgsError> {
        let flags = Flags::parse("machined", args, &["--platform", "--image-version"])?;
        let platform = flags.required("--platform")?;
        let mode: Mode = platform
            .parse()
            .map_err(|e: basalt_config::validate::ModeError| {
                flags.bad_value("--platform", platform, e.to_string())
            })?;
        let exe = if argv0.starts_with('/') {
            PathBuf::from(argv0)
        } else {
            PathBuf::from(Paths::BASALT_BINARY)
        };
        Ok(MachinedOptions {
            mode,
            config_argument: config_argument(flags.words.iter().map(String::as_str)),
            maintenance_ca: maintenance_ca_argument(flags.words.iter().map(String::as_str)),
            exe,
            image_version: flags.get("--image-version").map(str::to_string),
        })
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
    fn platform_and_config_word() {
        let o = MachinedOptions::parse(
            "/usr/bin/basalt",
            &s(&["--platform", "container", "basalt.config=/run/c.yaml"]),
        )
        .unwrap();
        assert_eq!(o.mode, Mode::Container);
        assert_eq!(o.config_argument, Some(PathBuf::from("/run/c.yaml")));
        assert_eq!(o.exe, PathBuf::from("/usr/bin/basalt"));
        assert_eq!(o.image_version, None);
        let metal = MachinedOptions::parse(
            "/usr/bin/basalt",
            &s(&["--platform", "metal", "--image-version", "0.1.0+abc"]),
        )
        .unwrap();
        assert_eq!(metal.image_version.as_deref(), Some("0.1.0+abc"));
        let e = MachinedOptions::parse("basalt", &s(&["--platform", "vm"])).unwrap_err();
        assert!(e.to_string().contains("metal, container"), "{e}");
        assert!(MachinedOptions::parse("basalt", &[]).is_err());
    }
}
