//! Errors of the supervisor.

/// A supervisor request failed.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    /// No service has this id.
    #[error("service {id:?} is not loaded; known services: {}", known_list(.known))]
    NotFound {
        /// The id asked for.
        id: String,
        /// The ids that exist.
        known: Vec<String>,
    },
    /// The id cannot be used (it names the log file).
    #[error("invalid service id {0:?}: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")]
    InvalidId(String),
    /// A running service cannot get a new spec.
    #[error("service {0:?} is active; stop it before loading a new spec")]
    Busy(String),
    /// Loading the spec would make services wait for each other forever.
    #[error("service dependencies form a cycle: {}; remove one of these dependencies", .0.join(" -> "))]
    DependencyCycle(Vec<String>),
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "(none)".to_string()
    } else {
        known.join(", ")
    }
}
