//! `basaltctl image build`: builds the signed boot image (the `basalt-image` crate) from a
//! Basalt source checkout, with a spinner per step and a table of the artifacts at the end.
//!
//! The build compiles the static `basalt` binary from that checkout, downloads the pinned
//! Debian packages of `image/inputs.yaml` and signs the manifest with an ed25519 key
//! (default `~/.basalt/image-signing.pk8`, created on first use).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::output;

/// `basaltctl image …`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build rootfs.sqsh, initramfs.img, vmlinuz, cmdline and the signed manifest
    Build(BuildArgs),
    /// Boot a built image in QEMU (metal mode) with its console here and apid forwarded
    Boot(super::image_boot::BootArgs),
}

/// Arguments of `image build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The Basalt source checkout (holds image/inputs.yaml) [default: the current directory
    /// or the nearest parent that is one]
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,

    /// Where the artifacts go [default: <source>/target/image]
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// The ed25519 PKCS#8 signing key (created when missing) [default:
    /// ~/.basalt/image-signing.pk8]
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
}

/// Runs an `image` subcommand.
pub fn run(command: &ImageCommand) -> anyhow::Result<()> {
    match command {
        ImageCommand::Build(args) => build(args),
        ImageCommand::Boot(args) => super::image_boot::run(args),
    }
}

fn build(args: &BuildArgs) -> anyhow::Result<()> {
    let source = match &args.source {
        Some(dir) => checkout(dir).with_context(|| {
            format!(
                "--source {}: not a Basalt source checkout (no image/inputs.yaml)",
                dir.display()
            )
        })?,
        None => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            find_checkout(&cwd).with_context(|| {
                format!(
                    "no Basalt source checkout at or above {}: run this in a clone of the \
                     Basalt repository or pass --source DIR",
                    cwd.display()
                )
            })?
        }
    };
    let key = match &args.signing_key {
        Some(path) => path.clone(),
        None => basalt_image::keys::default_path()
            .context("HOME is not set: pass --signing-key FILE")?,
    };
    let mut options = basalt_image::BuildOptions::standard(&source, key);
    if let Some(out) = &args.output {
        options.out_dir = out.clone();
    }
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner.set_message(format!(
        "building the image from {} into {}",
        source.display(),
        options.out_dir.display()
    ));
    let result = basalt_image::build(&options, &mut |step| {
        spinner.println(format!(
            "[{:>6.1}s] {} ({:.1}s)",
            step.elapsed.as_secs_f64(),
            step.name,
            step.took.as_secs_f64()
        ));
    });
    spinner.finish_and_clear();
    let report = result.context("image build failed")?;
    let mut text = format!(
        "image version {}\nsigning public key {} (compiled into /init){}\n",
        report.version,
        report.public_key,
        if report.key_created {
            "; the key was created now"
        } else {
            ""
        }
    );
    for (name, path, size) in &report.artifacts {
        text.push_str(&format!(
            "  {name:<14} {size:>12} bytes  {:>8.1} MiB  {}\n",
            *size as f64 / 1048576.0,
            path.display()
        ));
    }
    output::print(&text)
}

/// `dir` when it is a Basalt checkout.
pub(super) fn checkout(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.join("image/inputs.yaml").is_file() && dir.join("Cargo.toml").is_file() {
        return Ok(dir.to_path_buf());
    }
    bail!(
        "{} has no image/inputs.yaml next to a Cargo.toml",
        dir.display()
    )
}

/// The nearest of `start` and its parents that is a Basalt checkout.
pub(super) fn find_checkout(start: &Path) -> anyhow::Result<PathBuf> {
    start
        .ancestors()
        .find_map(|dir| checkout(dir).ok())
        .context("not found")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn finds_the_checkout_from_a_subdirectory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("image")).unwrap();
        std::fs::create_dir_all(dir.path().join("crates/x/src")).unwrap();
        std::fs::write(dir.path().join("image/inputs.yaml"), "").unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        let found = find_checkout(&dir.path().join("crates/x/src")).unwrap();
        assert_eq!(found, dir.path());
        let other = tempfile::tempdir().unwrap();
        assert!(find_checkout(other.path()).is_err());
        assert!(checkout(other.path()).is_err());
    }
}
