//! The server certificate behind a lock, swapped at half-life.
//!
//! rustls asks the resolver for a certificate at every handshake, so a new
//! connection gets the newest certificate while connections already open keep
//! the session they negotiated.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::client::ResolvesClientCert;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;
use tokio::task::JoinHandle;

use crate::certs::CertError;
use crate::console;

/// The longest wait before retrying a failed re-issue.
const RETRY_PAUSE: Duration = Duration::from_secs(10);

/// A [`ResolvesServerCert`] that always answers with the current certificate.
pub struct RotatingResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for RotatingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingResolver").finish_non_exhaustive()
    }
}

impl RotatingResolver {
    /// A resolver serving `key` until [`RotatingResolver::set`] replaces it.
    pub fn new(key: Arc<CertifiedKey>) -> Arc<Self> {
        Arc::new(RotatingResolver {
            current: RwLock::new(key),
        })
    }

    /// The certificate new connections get.
    pub fn current(&self) -> Arc<CertifiedKey> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the certificate for connections made from now on.
    pub fn set(&self, key: Arc<CertifiedKey>) {
        match self.current.write() {
            Ok(mut guard) => *guard = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
    }
}

impl ResolvesServerCert for RotatingResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The same rotation for a client certificate (apid's node-to-node certificate).
impl ResolvesClientCert for RotatingResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Re-issues the certificate with `issue` every `lifetime / 2` and installs it
/// in `resolver`; `what` names it in log lines. A failed issue is logged and retried after a short pause
/// (the current certificate is still valid for the other half of its life).
pub fn spawn_rotation<F>(
    what: &'static str,
    resolver: Arc<RotatingResolver>,
    lifetime: Duration,
    issue: F,
) -> JoinHandle<()>
where
    F: Fn() -> Result<Arc<CertifiedKey>, CertError> + Send + 'static,
{
    let half_life = lifetime / 2;
    tokio::spawn(async move {
        let mut wait = half_life;
        loop {
            tokio::time::sleep(wait).await;
            match issue() {
                Ok(key) => {
                    resolver.set(key);
                    console::log(format_args!(
                        "{what} re-issued (lifetime {}s, next in {}s)",
                        lifetime.as_secs(),
                        half_life.as_secs()
                    ));
                    wait = half_life;
                }
                Err(err) => {
                    wait = RETRY_PAUSE
                        .min(half_life / 4)
                        .max(Duration::from_millis(100));
                    console::log(format_args!(
                        "cannot re-issue the {what}: {err}; retrying in {}ms",
                        wait.as_millis()
                    ));
                }
            }
        }
    })
}
