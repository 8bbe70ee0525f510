//! Running the external tools the builder relies on, with errors that name the Debian package.

use std::process::{Command, Output};

use crate::error::ImageError;

/// External tools and the Debian package providing each.
pub const TOOLS: &[(&str, &str)] = &[
    ("apt-get", "apt"),
    ("dpkg-deb", "dpkg"),
    ("mksquashfs", "squashfs-tools"),
    ("unsquashfs", "squashfs-tools"),
    ("zstd", "zstd"),
    ("modinfo", "kmod"),
];

/// The Debian package that provides `tool`.
pub fn package_of(tool: &str) -> &'static str {
    TOOLS
        .iter()
        .find(|(name, _)| *name == tool)
        .map(|(_, package)| *package)
        .unwrap_or("(unknown)")
}

/// Renders a command for messages.
pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs `command`, capturing output; a missing program or a non-zero exit is an error.
pub fn run(command: &mut Command) -> Result<Output, ImageError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ImageError::MissingTool {
                package: package_of(&program).to_string(),
                tool: program.clone(),
            }
        } else {
            ImageError::ToolFailed {
                command: describe(command),
                status: "could not start".into(),
                stderr: e.to_string(),
            }
        }
    })?;
    if !output.status.success() {
        return Err(ImageError::ToolFailed {
            command: describe(command),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output)
}
