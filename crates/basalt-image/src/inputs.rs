//! `image/inputs.yaml`: the pinned list of Debian packages (version + .deb sha256) and what
//! the image takes from each.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ImageError;

/// The whole inputs file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    pub kernel: KernelInputs,
    pub packages: Vec<Package>,
}

/// Which package holds the kernel, its release string, modules and command line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelInputs {
    pub package: String,
    pub release: String,
    pub modules: Vec<String>,
    pub cmdline: String,
}

/// One pinned Debian package.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub files: Vec<FileMap>,
}

/// A file copied from the unpacked .deb (`from`) into the rootfs (`to`) with `mode` (octal).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMap {
    pub from: String,
    pub to: String,
    pub mode: String,
}

impl FileMap {
    /// The mode as a number (the file writes it in octal, e.g. "0755").
    pub fn mode_bits(&self) -> Option<u32> {
        u32::from_str_radix(&self.mode, 8)
            .ok()
            .filter(|m| *m <= 0o7777)
    }
}

impl Inputs {
    /// Reads and checks the inputs file.
    pub fn load(path: &Path) -> Result<Inputs, ImageError> {
        let text = std::fs::read_to_string(path).map_err(|e| ImageError::io("read", path, e))?;
        Inputs::parse(&text, path)
    }

    /// Parses and checks inputs text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Inputs, ImageError> {
        let err = |message: String| ImageError::Inputs {
            path: PathBuf::from(path),
            message,
        };
        let inputs: Inputs = serde_yaml::from_str(text).map_err(|e| err(e.to_string()))?;
        for package in &inputs.packages {
            let sha_ok = package.sha256.len() == 64
                && package
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !sha_ok {
                return Err(err(format!(
                    "package {}: sha256 must be 64 lower-case hex digits, got `{}`",
                    package.name, package.sha256
                )));
            }
            for file in &package.files {
                if file.mode_bits().is_none() {
                    return Err(err(format!(
                        "package {}: file {}: mode `{}` is not octal like \"0755\"",
                        package.name, file.to, file.mode
                    )));
                }
                if file.to.starts_with('/') || file.to.contains("..") {
                    return Err(err(format!(
                        "package {}: `to: {}` must be a relative path without `..`",
                        package.name, file.to
                    )));
                }
            }
        }
        if inputs.kernel_package().is_none() {
            return Err(err(format!(
                "kernel.package `{}` is not in `packages`",
                inputs.kernel.package
            )));
        }
        Ok(inputs)
    }

    /// The package entry holding the kernel.
    pub fn kernel_package(&self) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == self.kernel.package)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_repository_inputs_parse() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../image/inputs.yaml");
        let inputs = Inputs::load(&path).unwrap();
        assert!(inputs.kernel_package().is_some());
        assert!(inputs.packages.iter().any(|p| p.name == "etcd-server"));
    }

    #[test]
    fn bad_sha_and_mode_are_rejected() {
        let text = "kernel: {package: k, release: r, modules: [], cmdline: c}\npackages:\n  - {name: k, version: '1', sha256: abc, files: []}\n";
        let e = Inputs::parse(text, Path::new("x.yaml")).unwrap_err();
        assert!(e.to_string().contains("64 lower-case hex"), "{e}");
        let sha = "a".repeat(64);
        let text = format!("kernel: {{package: k, release: r, modules: [], cmdline: c}}\npackages:\n  - {{name: k, version: '1', sha256: {sha}, files: [{{from: a, to: b, mode: '999'}}]}}\n");
        let e = Inputs::parse(&text, Path::new("x.yaml")).unwrap_err();
        assert!(e.to_string().contains("not octal"), "{e}");
    }
}
