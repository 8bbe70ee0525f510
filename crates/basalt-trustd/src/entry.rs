//! `basalt trustd`: read the machine config from machined, serve `SecurityService`
//! on :50001 over TLS 1.3 (server certificate from `machine.ca`, rotated at half-life,
//! no client certificate asked for), follow `machine.token` changes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use basalt_apid::certs::{self, CertError, ServerNames};
use basalt_apid::config_source::{self, ConfigSourceError};
use basalt_apid::console;
use basalt_apid::node_pki::{NodePki, NodePkiError};
use basalt_apid::server::{self, ServeError};
use basalt_apid::tls::resolver::{spawn_rotation, RotatingResolver};
use basalt_apid::tls::server::{server_config, ClientAuth, SharedServerConfig, TlsError};
use basalt_pki::CertificateAuthority;
use rustls::sign::CertifiedKey;
use tokio::net::TcpListener;

use crate::args::{self, Args};
use crate::service::Trustd;

/// Fatal errors of trustd.
#[derive(Debug, thiserror::Error)]
pub enum TrustdError {
    /// The machine config could not be read.
    #[error(transparent)]
    Config(#[from] ConfigSourceError),
    /// Its PKI fields are unusable.
    #[error(transparent)]
    Pki(#[from] NodePkiError),
    /// This node has no CA key.
    #[error("machine config field .machine.ca.key is missing: trustd runs only on control-plane nodes (machine.type: controlplane), which hold the OS CA key")]
    NotControlPlane,
    /// `machine.token` is empty.
    #[error("machine config field .machine.token is empty: trustd would accept no worker; set the cluster's token")]
    NoToken,
    /// trustd's server certificate could not be made.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The listener could not be set up.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The async runtime could not be started.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs trustd with the words after `basalt trustd`. Returns 2 for a bad command line,
/// 1 for a fatal error (one `[trustd]` line says why); does not return while serving.
pub fn main(args: Vec<String>) -> i32 {
    console::set_prefix("trustd");
    let args = match args::parse(&args) {
        Ok(args) => args,
        Err(err) => {
            console::log(format_args!("error: {err}"));
            return 2;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("trustd")
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(args)),
        Err(err) => Err(TrustdError::Runtime(err)),
    };
    match result {
        Ok(()) => 0,
        Err(err) => {
            console::log(format_args!("fatal: {err}"));
            1
        }
    }
}

/// Serves until SIGTERM (or a fatal error).
pub async fn run(args: Args) -> Result<(), TrustdError> {
    let config = config_source::fetch(&args.socket).await?;
    let pki = NodePki::from_config(&config)?;
    let ca = Arc::new(pki.ca.ok_or(TrustdError::NotControlPlane)?);
    if config.machine.token.is_empty() {
        return Err(TrustdError::NoToken);
    }
    let trustd = Trustd::new(Arc::clone(&ca), &config.machine.token, args.cert_lifetime);
    let names = ServerNames::discover(&pki.cert_sans);
    let tls = tls(&ca, &names, args.cert_lifetime)?;
    tokio::spawn(follow_token(
        args.socket.clone(),
        trustd.clone(),
        config.machine.token.clone(),
    ));
    let listener = server::bind(args.listen).await?;
    log_serving(args.listen, &names, args.cert_lifetime);
    serve(listener, tls, trustd, terminated()).await;
    Ok(())
}

fn log_serving(listen: SocketAddr, names: &ServerNames, lifetime: Duration) {
    console::log(format_args!(
        "signing worker certificates on {listen} (TLS 1.3, no client certificate; server certificate for {} from machine.ca, re-issued at half-life; signed certificates: ServerAuth only, no Organization, valid {}s)",
        names.all().join(", "),
        lifetime.as_secs()
    ));
}

/// trustd's TLS: a server certificate from `ca` for `names`, re-issued every
/// `lifetime / 2`; no client certificate is asked for.
pub fn tls(
    ca: &Arc<CertificateAuthority>,
    names: &ServerNames,
    lifetime: Duration,
) -> Result<Arc<SharedServerConfig>, TrustdError> {
    let resolver = RotatingResolver::new(issue_server(ca, names, lifetime)?);
    spawn_rotation(
        "trustd's server certificate",
        Arc::clone(&resolver),
        lifetime,
        {
            let (ca, names) = (Arc::clone(ca), names.clone());
            move || issue_server(&ca, &names, lifetime)
        },
    );
    Ok(SharedServerConfig::new(server_config(
        resolver,
        &ClientAuth::None,
    )?))
}

/// Serves `trustd` on `listener` until `shutdown` completes (apid's accept loop:
/// handshake timeout, failures logged with the peer, in-flight calls drained).
pub async fn serve(
    listener: TcpListener,
    tls: Arc<SharedServerConfig>,
    trustd: Trustd,
    shutdown: impl std::future::Future<Output = ()>,
) {
    server::serve(listener, tls, trustd.into_server(), shutdown).await;
}

fn issue_server(
    ca: &CertificateAuthority,
    names: &ServerNames,
    lifetime: Duration,
) -> Result<Arc<CertifiedKey>, CertError> {
    let issued = certs::issue_server_certificate(ca, names, lifetime)?;
    let (cert, key) = certs::to_der(&issued, "trustd's server certificate")?;
    certs::certified_key(cert, &key, "trustd's server certificate")
}

/// Applies a changed `machine.token` to new requests.
async fn follow_token(socket: std::path::PathBuf, trustd: Trustd, mut current: String) {
    config_source::watch(socket, move |config| {
        let token = config.machine.token;
        if token != current && !token.is_empty() {
            trustd.set_token(&token);
            console::log("machine.token changed: new requests must present the new token");
            current = token;
        }
    })
    .await;
}

/// Completes on SIGTERM.
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut sigterm) => {
            sigterm.recv().await;
            console::log("SIGTERM: finishing in-flight calls, then exiting");
        }
        Err(err) => {
            console::log(format_args!(
                "cannot handle SIGTERM ({err}); exiting on kill only"
            ));
            std::future::pending::<()>().await;
        }
    }
}
