//! `config context`, `config endpoint`, `config node`, `config remove`: small edits
//! of the client config file, each saved atomically.

use anyhow::Context as _;

use crate::global::GlobalArgs;

/// Makes `name` the current context.
pub fn use_context(global: &GlobalArgs, name: &str) -> anyhow::Result<()> {
    let mut file = global.load_config()?;
    let path = file.path().display().to_string();
    file.config_mut()
        .set_current(name)
        .with_context(|| format!("cannot switch context in {path}"))?;
    Ok(file.save()?)
}

/// Sets the endpoints of the selected context.
pub fn endpoints(global: &GlobalArgs, endpoints: Vec<String>) -> anyhow::Result<()> {
    let mut file = global.load_config()?;
    let (name, _) = file.selected(global.context.as_deref())?;
    let path = file.path().display().to_string();
    file.config_mut()
        .set_endpoints(&name, endpoints)
        .with_context(|| format!("cannot set endpoints of context \"{name}\" in {path}"))?;
    Ok(file.save()?)
}

/// Sets the nodes of the selected context.
pub fn nodes(global: &GlobalArgs, nodes: Vec<String>) -> anyhow::Result<()> {
    let mut file = global.load_config()?;
    let (name, _) = file.selected(global.context.as_deref())?;
    let path = file.path().display().to_string();
    file.config_mut()
        .set_nodes(&name, nodes)
        .with_context(|| format!("cannot set nodes of context \"{name}\" in {path}"))?;
    Ok(file.save()?)
}

/// Removes context `name`.
pub fn remove(global: &GlobalArgs, name: &str) -> anyhow::Result<()> {
    let mut file = global.load_config()?;
    let path = file.path().display().to_string();
    file.config_mut()
        .remove(name)
        .with_context(|| format!("cannot remove a context from {path}"))?;
    file.save()?;
    eprintln!("removed context \"{name}\" from {path}");
    Ok(())
}
