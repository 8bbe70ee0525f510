//! Kernel modules from `/lib/modules/<kver>/modules.order`, loaded with `finit_module(2)`.
//!
//! Each non-empty line (`#` starts a comment) is a `.ko` path relative to the directory of
//! `modules.order` (e.g. `kernel/fs/squashfs/squashfs.ko`); lines are loaded in file order, so
//! the image builder lists dependencies first. A module that is already loaded is fine.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{BootError, Env};

/// The `modules.order` files under `<root>/lib/modules/*/`, sorted.
pub fn find_orders(root: &Path) -> Result<Vec<PathBuf>, BootError> {
    let base = root.join("lib/modules");
    let io = |path: &Path, cause| BootError::ModulesIo {
        path: path.to_path_buf(),
        cause,
    };
    let entries = match std::fs::read_dir(&base) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BootError::NoModules(base));
        }
        Err(e) => return Err(io(&base, e)),
    };
    let mut orders = Vec::new();
    for entry in entries {
        let order = entry
            .map_err(|e| io(&base, e))?
            .path()
            .join("modules.order");
        if order.is_file() {
            orders.push(order);
        }
    }
    if orders.is_empty() {
        return Err(BootError::NoModules(base));
    }
    orders.sort();
    Ok(orders)
}

/// The `.ko` paths listed in `order`, in load order.
pub fn read_order(order: &Path) -> Result<Vec<PathBuf>, BootError> {
    let text = std::fs::read_to_string(order).map_err(|cause| BootError::ModulesIo {
        path: order.to_path_buf(),
        cause,
    })?;
    let dir = order.parent().unwrap_or(Path::new("/"));
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| dir.join(l.trim_start_matches('/')))
        .collect())
}

/// Loads every listed module; a missing file stops the boot naming the module.
pub fn load_all(env: &mut Env<'_>) -> Result<(), BootError> {
    let start = Instant::now();
    let mut count = 0usize;
    for order in find_orders(&env.root)? {
        for ko in read_order(&order)? {
            if !ko.is_file() {
                return Err(BootError::ModuleMissing {
                    name: module_name(&ko),
                    order,
                    path: ko,
                });
            }
            env.sys.finit_module(&ko)?;
            count += 1;
        }
    }
    env.say(format_args!(
        "loaded {count} kernel modules in {} ms",
        start.elapsed().as_millis()
    ));
    Ok(())
}

/// `squashfs` for `…/squashfs.ko`.
fn module_name(ko: &Path) -> String {
    ko.file_name()
        .map(|n| n.to_string_lossy())
        .map(|n| n.trim_end_matches(".ko").to_string())
        .unwrap_or_else(|| ko.display().to_string())
}
