//! Controllers: declare inputs and outputs, reconcile when an input changes.
//!
//! The [`ControllerRuntime`] runs each controller in its own task. A controller is reconciled
//! once at start and again after any change to its inputs (bursts coalesce into one run).
//! A failing reconcile is logged and retried with exponential backoff (100 ms doubling up
//! to 30 s). Through its [`ControllerContext`] a controller reads anything but writes only
//! its declared output types, always as owner = its name.

mod context;
mod runtime;

use async_trait::async_trait;

pub use context::ControllerContext;
pub use runtime::ControllerRuntime;

/// A resource type a controller reads; changes to it trigger a reconcile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// Namespace to watch ("" = every namespace).
    pub namespace: String,
    /// Type to watch.
    pub type_: String,
}

/// A resource type a controller writes; exactly one controller may claim each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The type.
    pub type_: String,
}

impl Input {
    /// An input from a namespace and a type.
    pub fn new(namespace: impl Into<String>, type_: impl Into<String>) -> Self {
        Input {
            namespace: namespace.into(),
            type_: type_.into(),
        }
    }
}

impl Output {
    /// An output of a type.
    pub fn new(type_: impl Into<String>) -> Self {
        Output {
            type_: type_.into(),
        }
    }
}

/// A reconciliation loop over resources.
#[async_trait]
pub trait Controller: Send + 'static {
    /// Unique name; also the owner of everything the controller writes.
    fn name(&self) -> &str;
    /// Types whose changes trigger a reconcile.
    fn inputs(&self) -> Vec<Input>;
    /// Types the controller writes (and owns exclusively).
    fn outputs(&self) -> Vec<Output>;
    /// Brings the outputs in line with the inputs. An error is logged and retried later.
    async fn reconcile(&mut self, ctx: &mut ControllerContext) -> anyhow::Result<()>;
}
