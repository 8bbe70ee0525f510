//! Signals PID 1 acts on.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// What a signal asks of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// SIGTERM: run the shutdown sequence.
    Shutdown,
    /// SIGINT: run the reboot sequence.
    Reboot,
}

/// Listens for SIGTERM and SIGINT (needs a tokio runtime).
#[derive(Debug)]
pub struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    /// Installs the handlers.
    pub fn listen() -> std::io::Result<Self> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The next request; `None` only if the signal driver went away.
    pub async fn next(&mut self) -> Option<Request> {
        tokio::select! {
            r = self.term.recv() => r.map(|_| Request::Shutdown),
            r = self.int.recv() => r.map(|_| Request::Reboot),
        }
    }
}
