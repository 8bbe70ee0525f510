//! What a controller sees during reconcile: the store, limited to its declared outputs.

use std::collections::BTreeSet;

use crate::error::StoreError;
use crate::resource::{Resource, Spec};
use crate::store::Store;

/// Read access to the store and write access to the controller's output types, with the
/// controller's name as owner.
#[derive(Debug)]
pub struct ControllerContext {
    store: Store,
    name: String,
    outputs: BTreeSet<String>,
}

impl ControllerContext {
    pub(crate) fn new(store: Store, name: String, outputs: BTreeSet<String>) -> Self {
        ControllerContext {
            store,
            name,
            outputs,
        }
    }

    /// The controller's name (the owner of what it writes).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One resource.
    pub fn get(&self, ns: &str, type_: &str, id: &str) -> Result<Resource, StoreError> {
        self.store.get(ns, type_, id)
    }

    /// Every resource of a type in a namespace, sorted by id.
    pub fn list(&self, ns: &str, type_: &str) -> Vec<Resource> {
        self.store.list(ns, type_)
    }

    /// Creates or updates an output resource (a no-op if nothing changed).
    pub fn apply(&self, r: Resource) -> Result<Resource, StoreError> {
        self.check_output(&r.metadata.type_)?;
        self.store.apply(&self.name, r)
    }

    /// Creates or updates an output resource from a typed spec, in `S`'s namespace.
    pub fn apply_spec<S: Spec>(&self, id: &str, spec: &S) -> Result<Resource, StoreError> {
        self.apply(Resource::from_spec(id, spec)?)
    }

    /// Moves an output resource to phase tearing-down.
    pub fn teardown(&self, ns: &str, type_: &str, id: &str) -> Result<Resource, StoreError> {
        self.check_output(type_)?;
        self.store.teardown(&self.name, ns, type_, id)
    }

    /// Removes an output resource.
    pub fn destroy(&self, ns: &str, type_: &str, id: &str) -> Result<(), StoreError> {
        self.check_output(type_)?;
        self.store.destroy(&self.name, ns, type_, id)
    }

    fn check_output(&self, type_: &str) -> Result<(), StoreError> {
        if self.outputs.contains(type_) {
            Ok(())
        } else {
            Err(StoreError::UndeclaredOutput {
                controller: self.name.clone(),
                type_: type_.to_string(),
            })
        }
    }
}
