//! `cargo xtask image`: installs the tools the image build needs, builds every image artifact
//! (see the `basalt-image` crate) and prints each with its size and the image version.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::{cmd, packages};

/// Executables the image build calls.
pub const TOOLS: &[&str] = &[
    "apt-get",
    "dpkg-deb",
    "mksquashfs",
    "unsquashfs",
    "zstd",
    "modinfo",
];

/// Options of `cargo xtask image`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the artifacts go (default: target/image).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The ed25519 PKCS#8 signing key (default: ~/.basalt/image-signing.pk8, created if missing).
    #[arg(long)]
    pub signing_key: Option<PathBuf>,
}

/// Runs the image build.
pub fn run(args: &Args) -> Result<()> {
    packages::ensure(TOOLS)?;
    let root = cmd::root();
    let key = match &args.signing_key {
        Some(path) => path.clone(),
        None => basalt_image::keys::default_path()
            .context("HOME is not set: pass --signing-key FILE")?,
    };
    let mut options = basalt_image::BuildOptions::standard(&root, key);
    options.cache_dir = cmd::target_dir().join("image-cache");
    options.out_dir = match &args.out {
        Some(out) => out.clone(),
        None => cmd::target_dir().join("image"),
    };
    println!("xtask image: building into {}", options.out_dir.display());
    let report = basalt_image::build(&options, &mut |step| {
        println!(
            "xtask image: [{:>6.1}s] {} ({:.1}s)",
            step.elapsed.as_secs_f64(),
            step.name,
            step.took.as_secs_f64()
        );
    })
    .context("image build failed")?;
    println!("image version {}", report.version);
    println!(
        "signing public key {} (compiled into /init)",
        report.public_key
    );
    println!("kernel modules (load order): {}", report.modules.join(" "));
    for (name, path, size) in &report.artifacts {
        println!(
            "  {name:<14} {:>12} bytes  {:>8.1} MiB  {}",
            size,
            *size as f64 / 1048576.0,
            path.display()
        );
    }
    Ok(())
}
