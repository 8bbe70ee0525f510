//! Builds the static `basalt` multi-call binary with the image public key compiled in.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::ImageError;
use crate::tool;

/// The target triple (the gnu target with a static C runtime; there is no musl here).
pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// `RUSTFLAGS='-C target-feature=+crt-static' BASALT_IMAGE_PUBLIC_KEY=<hex> BASALT_GIT_SHA=<sha> cargo build
/// --release --target x86_64-unknown-linux-gnu -p basalt --target-dir <workspace>/target/static`.
/// Its own target folder keeps normal builds from being invalidated. Returns the binary path.
pub fn build_static(workspace: &Path, public_key_hex: &str) -> Result<PathBuf, ImageError> {
    let target_dir = workspace.join("target/static");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env("BASALT_IMAGE_PUBLIC_KEY", public_key_hex)
        .env("BASALT_GIT_SHA", git_sha(workspace))
        .args([
            "build",
            "--release",
            "--target",
            TARGET,
            "-p",
            "basalt",
            "--target-dir",
        ])
        .arg(&target_dir);
    // Inherited from an outer `cargo test`/`cargo run`; they would change the inner build.
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_ENCODED_RUSTFLAGS",
    ] {
        command.env_remove(var);
    }
    tool::run(&mut command)?;
    let binary = target_dir.join(TARGET).join("release/basalt");
    if !binary.is_file() {
        return Err(ImageError::ToolFailed {
            command: tool::describe(&command),
            status: "succeeded".into(),
            stderr: format!("but {} does not exist", binary.display()),
        });
    }
    Ok(binary)
}

/// The checkout's commit (12 hex digits) for `Version`'s `sha`; empty outside a git checkout.
/// No build time is recorded: it would make two builds differ.
fn git_sha(workspace: &Path) -> String {
    Command::new("git")
        .current_dir(workspace)
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default()
}
