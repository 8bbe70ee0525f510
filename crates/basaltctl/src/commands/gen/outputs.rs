//! Writing generated files: never silently overwrite, always private (0600), atomic.

use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _};

/// Writes `bytes` to `path` (`-` means stdout). Refuses to replace an existing file
/// unless `force` is set.
pub fn write_output(path: &Path, bytes: &[u8], force: bool) -> anyhow::Result<()> {
    if path == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(bytes)
            .and_then(|()| stdout.flush())
            .context("cannot write to stdout");
    }
    if path.exists() && !force {
        bail!(
            "{} already exists; use --force to overwrite it",
            path.display()
        );
    }
    basalt_client_config::write_private_file(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}
