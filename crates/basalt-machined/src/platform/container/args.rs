//! `basalt launch` options.

use std::path::PathBuf;

use crate::machine::args::{ArgsError, Flags};
use crate::platform::Paths;

/// What `basalt launch` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchOptions {
    /// The root file system directory (read-only inside the node). With `--root-image` it is
    /// only the (empty) mount point of the image.
    pub root: PathBuf,
    /// A SquashFS image attached read-only to a loop device and mounted on `root` inside the
    /// node's mount namespace (`rootfs.sqsh` of `cargo xtask image`).
    pub root_image: Option<PathBuf>,
    /// A network namespace to join (e.g. `/run/netns/NAME` made by `ip netns add`) instead of
    /// a fresh, empty one.
    pub netns: Option<PathBuf>,
    /// Host directory for STATE (`/system/state`).
    pub state: PathBuf,
    /// Host directory for EPHEMERAL (`/var`).
    pub ephemeral: PathBuf,
    /// Initial hostname of the node's UTS namespace (the config may set another).
    pub hostname: Option<String>,
    /// Host file copied into the node and passed as `basalt.config=`.
    pub config: Option<PathBuf>,
    /// Host PEM file (a CA certificate) copied into the node and passed as
    /// `basalt.maintenance-ca=`: in maintenance mode only clients with a certificate from
    /// this CA may push the first config.
    pub maintenance_ca: Option<PathBuf>,
    /// Host directory shared as `/system/run/machined` (machined's API socket lives there).
    pub socket_dir: Option<PathBuf>,
    /// The basalt binary inside the node.
    pub exe: PathBuf,
}

const KNOWN: &[&str] = &[
    "--root",
    "--root-image",
    "--netns",
    "--state",
    "--ephemeral",
    "--hostname",
    "--config",
    "--maintenance-ca",
    "--socket-dir",
    "--exe",
];

impl LaunchOptions {
    /// Parses the arguments after `launch`.
    pub fn parse(args: &[String]) -> Result<Self, ArgsError> {
        let flags = Flags::parse("launch", args, KNOWN)?;
        if let Some(word) = flags.words.first() {
            return Err(flags.bad_value("(argument)", word, "`basalt launch` takes only flags"));
        }
        let exe = PathBuf::from(flags.get("--exe").unwrap_or(Paths::BASALT_BINARY));
        if !exe.is_absolute() {
            let shown = exe.display().to_string();
            return Err(flags.bad_value("--exe", &shown, "give an absolute path inside the root"));
        }
        if let Some(h) = flags.get("--hostname") {
            if h.is_empty() || h.len() > 64 {
                return Err(flags.bad_value("--hostname", h, "a hostname has 1 to 64 bytes"));
            }
        }
        Ok(LaunchOptions {
            root: PathBuf::from(flags.required("--root")?),
            root_image: flags.get("--root-image").map(PathBuf::from),
            netns: flags.get("--netns").map(PathBuf::from),
            state: PathBuf::from(flags.required("--state")?),
            ephemeral: PathBuf::from(flags.required("--ephemeral")?),
            hostname: flags.get("--hostname").map(str::to_string),
            config: flags.get("--config").map(PathBuf::from),
            maintenance_ca: flags.get("--maintenance-ca").map(PathBuf::from),
            socket_dir: flags.get("--socket-dir").map(PathBuf::from),
            exe,
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
    fn parses_and_defaults() {
        let o = LaunchOptions::parse(&s(&[
            "--root",
            "/r",
            "--state",
            "/s",
            "--ephemeral=/e",
            "--hostname",
            "n1",
        ]))
        .unwrap();
        assert_eq!(o.root, PathBuf::from("/r"));
        assert_eq!(o.ephemeral, PathBuf::from("/e"));
        assert_eq!(o.hostname.as_deref(), Some("n1"));
        assert_eq!(o.exe, PathBuf::from("/usr/bin/basalt"));
        assert_eq!(o.config, None);
        assert_eq!(o.root_image, None);
        assert_eq!(o.netns, None);
    }

    #[test]
    fn parses_image_and_netns() {
        let o = LaunchOptions::parse(&s(&[
            "--root",
            "/mnt",
            "--root-image",
            "/c/rootfs.sqsh",
            "--netns=/run/netns/n1",
            "--state",
            "/s",
            "--ephemeral",
            "/e",
        ]))
        .unwrap();
        assert_eq!(o.root_image, Some(PathBuf::from("/c/rootfs.sqsh")));
        assert_eq!(o.netns, Some(PathBuf::from("/run/netns/n1")));
    }

    #[test]
    fn missing_required_flag_is_named() {
        let e = LaunchOptions::parse(&s(&["--root", "/r", "--state", "/s"])).unwrap_err();
        assert!(e.to_string().contains("--ephemeral"), "{e}");
    }
}
