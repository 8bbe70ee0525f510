//! Shared by the image tests: one real image build per test binary.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use basalt_image::{BuildOptions, BuildReport};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Builds a real image into `target/image-test/<name>`, with the standard signing key
/// (`~/.basalt/image-signing.pk8`, the same key `cargo xtask image` uses, so the static
/// binary is not rebuilt for a different key) and the shared .deb cache.
pub fn build_into(name: &str) -> BuildReport {
    let root = workspace();
    let key = basalt_image::keys::default_path().expect("HOME must be set for the signing key");
    let mut options = BuildOptions::standard(&root, key);
    options.out_dir = root.join("target/image-test").join(name);
    let report = basalt_image::build(&options, &mut |step| {
        eprintln!(
            "image build {name}: [{:>6.1}s] {} ({:.1}s)",
            step.elapsed.as_secs_f64(),
            step.name,
            step.took.as_secs_f64()
        );
    });
    match report {
        Ok(report) => {
            for (artifact, _, size) in &report.artifacts {
                eprintln!("image build {name}: {artifact:<14} {size:>10} bytes");
            }
            report
        }
        Err(e) => panic!("image build failed: {e}"),
    }
}

/// The one image of this test binary.
pub fn image() -> &'static BuildReport {
    static IMAGE: OnceLock<BuildReport> = OnceLock::new();
    IMAGE.get_or_init(|| build_into("shared"))
}

/// Path of artifact `name` in `report`.
pub fn artifact(report: &BuildReport, name: &str) -> PathBuf {
    report
        .artifacts
        .iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, p, _)| p.clone())
        .unwrap()
}
