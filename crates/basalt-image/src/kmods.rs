//! Picks kernel modules out of the unpacked kernel package and orders them so that every
//! module comes after its dependencies (`modinfo -F depends` on each `.ko`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::ImageError;
use crate::tool;

/// A module chosen for the initramfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Module name (`-` normalised to `_`).
    pub name: String,
    /// Path relative to `/lib/modules/<release>` (e.g. `kernel/fs/squashfs/squashfs.ko`).
    pub rel_path: String,
    /// Absolute path of the `.ko` in the unpacked package.
    pub source: PathBuf,
}

/// Normalises a module name the way the kernel does (`dm-mod` == `dm_mod`).
pub fn normalise(name: &str) -> String {
    name.replace('-', "_")
}

/// Resolves `roots` (and their dependencies, recursively) under `modules_dir`
/// (`<unpacked>/lib/modules/<release>`) into load order.
pub fn resolve(modules_dir: &Path, roots: &[String]) -> Result<Vec<Module>, ImageError> {
    let index = index(modules_dir)?;
    let mut ordered = Vec::new();
    let mut state: BTreeMap<String, bool> = BTreeMap::new(); // false = visiting, true = done
    for root in roots {
        visit(
            &normalise(root),
            &index,
            modules_dir,
            &mut state,
            &mut ordered,
            &mut Vec::new(),
        )?;
    }
    Ok(ordered)
}

fn visit(
    name: &str,
    index: &BTreeMap<String, PathBuf>,
    dir: &Path,
    state: &mut BTreeMap<String, bool>,
    ordered: &mut Vec<Module>,
    chain: &mut Vec<String>,
) -> Result<(), ImageError> {
    match state.get(name) {
        Some(true) => return Ok(()),
        Some(false) => {
            return Err(ImageError::Module {
                module: name.into(),
                message: format!("dependency cycle: {} -> {name}", chain.join(" -> ")),
            })
        }
        None => {}
    }
    let source = index.get(name).ok_or_else(|| ImageError::Module {
        module: name.into(),
        message: format!(
            "no {name}.ko under {} (built in, or misspelt in image/inputs.yaml?){}",
            dir.display(),
            if chain.is_empty() {
                String::new()
            } else {
                format!("; needed by {}", chain.join(" -> "))
            }
        ),
    })?;
    state.insert(name.into(), false);
    chain.push(name.into());
    for dep in depends(source)? {
        visit(&dep, index, dir, state, ordered, chain)?;
    }
    chain.pop();
    state.insert(name.into(), true);
    let rel_path = source
        .strip_prefix(dir)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    ordered.push(Module {
        name: name.into(),
        rel_path,
        source: source.clone(),
    });
    Ok(())
}

/// The modules `ko` depends on, from its `.modinfo` section.
pub fn depends(ko: &Path) -> Result<Vec<String>, ImageError> {
    let output = tool::run(Command::new("modinfo").args(["-F", "depends"]).arg(ko))?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .trim()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(normalise)
        .collect())
}

/// Maps every `.ko` under `dir` by normalised module name.
fn index(dir: &Path) -> Result<BTreeMap<String, PathBuf>, ImageError> {
    let mut map = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries =
            std::fs::read_dir(&current).map_err(|e| ImageError::io("list", &current, e))?;
        for entry in entries {
            let path = entry
                .map_err(|e| ImageError::io("list", &current, e))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(stem) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".ko"))
            {
                map.insert(normalise(stem), path.clone());
            }
        }
    }
    Ok(map)
}
