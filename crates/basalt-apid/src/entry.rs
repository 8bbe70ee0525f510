//! `basalt apid`: wiring the parts together, in normal and maintenance mode.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use basalt_pki::CertificateAuthority;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;

use crate::args::{self, Args};
use crate::certs::{self, CertError, ServerNames};
use crate::config_source::{self, ConfigSourceError};
use crate::console;
use crate::node_pki::{NodePki, NodePkiError};
use crate::proxy::{self, ProxyState};
use crate::server::{self, ServeError};
use crate::tls::client::node_client_config;
use crate::tls::resolver::{spawn_rotation, RotatingResolver};
use crate::tls::server::{server_config, ClientAuth, SharedServerConfig, TlsError};
use crate::worker::{self, WorkerIdentity};

/// What a worker without a CA key says before asking trustd.
pub const WORKER_WAITING: &str = "worker node: waiting for a server certificate from trustd";

/// Lifetime of the self-signed maintenance certificate.
pub const MAINTENANCE_CERT_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// The console line announcing the maintenance certificate; `fingerprint` is `sha256:<hex>`.
pub fn fingerprint_line(fingerprint: &str) -> String {
    format!("maintenance mode: apid certificate fingerprint {fingerprint}")
}

/// Fatal errors of apid.
#[derive(Debug, thiserror::Error)]
pub enum ApidError {
    /// A certificate could not be made.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The machine config could not be read.
    #[error(transparent)]
    Config(#[from] ConfigSourceError),
    /// The machine config's PKI fields are unusable.
    #[error(transparent)]
    Pki(#[from] NodePkiError),
    /// The listener could not be set up.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The pinned maintenance CA file is unusable.
    #[error("cannot use the maintenance CA {path}: {reason}; it must be a PEM file with at least one CA certificate (basalt.maintenance-ca=)")]
    MaintenanceCa {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The async runtime could not be started.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs apid with the command line `args` (the words after `basalt apid`;
/// leading non-flag words are skipped). Returns the exit code: 2 for a bad
/// command line, 1 for a fatal error (one `[apid]` line says why); it does not
/// return while serving.
pub fn main(args: Vec<String>) -> i32 {
    let args = match args::parse(&args) {
        Ok(args) => args,
        Err(err) => {
            console::log(format_args!("error: {err}"));
            return 2;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("apid")
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(args)),
        Err(err) => Err(ApidError::Runtime(err)),
    };
    match result {
        Ok(()) => 0,
        Err(err) => {
            console::log(format_args!("fatal: {err}"));
            1
        }
    }
}

/// Serves until the process is killed (or a fatal error).
pub async fn run(args: Args) -> Result<(), ApidError> {
    if args.maintenance {
        run_maintenance(args).await
    } else {
        run_normal(args).await
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

async fn run_maintenance(args: Args) -> Result<(), ApidError> {
    let names = ServerNames::discover(&[]);
    let cert = certs::maintenance_certificate(&names, MAINTENANCE_CERT_LIFETIME)?;
    let client_auth = match &args.maintenance_ca {
        Some(path) => ClientAuth::Required {
            roots: read_ca_file(path)?,
        },
        None => ClientAuth::None,
    };
    let tls = server_config(RotatingResolver::new(cert.key), &client_auth)?;
    let listener = server::bind(args.listen).await?;
    console::log(fingerprint_line(&cert.fingerprint));
    match &args.maintenance_ca {
        Some(path) => console::log(format_args!(
            "maintenance mode on {}: client certificates must chain to the CA in {}",
            args.listen,
            path.display()
        )),
        None => console::log(format_args!(
            "maintenance mode on {}: no client certificate needed; only read-only calls and ApplyConfiguration",
            args.listen
        )),
    }
    let state = ProxyState {
        machined_socket: args.socket,
        local_names: names.all(),
        node_client: None,
        maintenance: true,
        hostname: hostname(),
    };
    let service = proxy::service(state);
    server::serve(
        listener,
        SharedServerConfig::new(tls),
        service,
        terminated(),
    )
    .await;
    Ok(())
}

async fn run_normal(args: Args) -> Result<(), ApidError> {
    let config = config_source::fetch(&args.socket).await?;
    let pki = NodePki::from_config(&config)?;
    let Some(ca) = pki.ca else {
        return run_worker(args, &config, pki).await;
    };
    let ca = Arc::new(ca);
    let lifetime = args.cert_lifetime;
    let cert_sans = Arc::new(RwLock::new(pki.cert_sans.clone()));
    let names = ServerNames::discover(&pki.cert_sans);

    let server_cert = RotatingResolver::new(issue_server(&ca, &names, lifetime)?);
    let client_cert = RotatingResolver::new(issue_client(&ca, lifetime)?);
    spawn_rotation("server certificate", Arc::clone(&server_cert), lifetime, {
        let (ca, cert_sans) = (Arc::clone(&ca), Arc::clone(&cert_sans));
        move || {
            let sans = cert_sans.read().map(|s| s.clone()).unwrap_or_default();
            issue_server(&ca, &ServerNames::discover(&sans), lifetime)
        }
    });
    spawn_rotation(
        "node-to-node client certificate",
        Arc::clone(&client_cert),
        lifetime,
        {
            let ca = Arc::clone(&ca);
            move || issue_client(&ca, lifetime)
        },
    );

    let auth = ClientAuth::Required {
        roots: pki.roots.clone(),
    };
    let tls = SharedServerConfig::new(server_config(server_cert.clone(), &auth)?);
    let node_client = node_client_config(&pki.roots[..1], client_cert)?;
    tokio::spawn(follow_config(
        args.socket.clone(),
        Arc::clone(&tls),
        server_cert,
        pki.roots,
        cert_sans,
    ));

    let listener = server::bind(args.listen).await?;
    console::log(format_args!(
        "serving the machine API on {} (mutual TLS; server certificate for {} valid {}s, re-issued at half-life)",
        args.listen,
        names.all().join(", "),
        lifetime.as_secs()
    ));
    let state = ProxyState {
        machined_socket: args.socket,
        local_names: ServerNames::discover(&[]).all(),
        node_client: Some(node_client),
        maintenance: false,
        hostname: hostname(),
    };
    server::serve(listener, tls, proxy::service(state), terminated()).await;
    Ok(())
}

/// A worker: the server certificate comes from trustd (see [`crate::worker`]); apid
/// listens only once it has one. Workers do not forward to other nodes.
async fn run_worker(
    args: Args,
    config: &basalt_config::v1alpha1::Config,
    pki: NodePki,
) -> Result<(), ApidError> {
    let mut identity = WorkerIdentity::from_config(config)?;
    console::log(format_args!(
        "{WORKER_WAITING} at {}",
        identity.endpoints.join(", ")
    ));
    let obtained = worker::obtain(&args.socket, &mut identity).await;
    let server_cert = RotatingResolver::new(Arc::clone(&obtained.key));
    worker::spawn_renewal(
        args.socket.clone(),
        identity,
        Arc::clone(&server_cert),
        obtained.valid_for,
    );
    let auth = ClientAuth::Required {
        roots: pki.roots.clone(),
    };
    let tls = SharedServerConfig::new(server_config(server_cert.clone(), &auth)?);
    tokio::spawn(follow_config(
        args.socket.clone(),
        Arc::clone(&tls),
        server_cert,
        pki.roots,
        Arc::new(RwLock::new(pki.cert_sans)),
    ));
    let listener = server::bind(args.listen).await?;
    console::log(format_args!(
        "serving the machine API on {} (mutual TLS; server certificate for {} from trustd at {}, valid {}s, renewed at half-life)",
        args.listen,
        obtained.names.all().join(", "),
        obtained.endpoints.join(", "),
        obtained.valid_for.as_secs()
    ));
    let state = ProxyState {
        machined_socket: args.socket,
        local_names: ServerNames::discover(&[]).all(),
        node_client: None,
        maintenance: false,
        hostname: hostname(),
    };
    server::serve(listener, tls, proxy::service(state), terminated()).await;
    Ok(())
}

/// Completes when apid gets SIGTERM (machined stopping or restarting the service); the
/// server then finishes its in-flight calls before apid exits.
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut sigterm) => {
            sigterm.recv().await;
            console::log("SIGTERM: finishing in-flight calls, then exiting");
        }
        Err(err) => {
            console::log(format_args!(
                "cannot handle SIGTERM ({err}); in-flight calls are cut off when apid stops"
            ));
            std::future::pending::<()>().await;
        }
    }
}

/// Follows config changes: new `acceptedCAs` apply to new connections, new
/// `certSANs` to the next server certificate.
async fn follow_config(
    socket: std::path::PathBuf,
    tls: Arc<SharedServerConfig>,
    server_cert: Arc<RotatingResolver>,
    mut roots: Vec<CertificateDer<'static>>,
    cert_sans: Arc<RwLock<Vec<String>>>,
) {
    config_source::watch(socket, move |config| {
        let pki = match NodePki::from_config(&config) {
            Ok(pki) => pki,
            Err(err) => return console::log(format_args!("ignoring the new machine config: {err}")),
        };
        if let Ok(mut sans) = cert_sans.write() {
            *sans = pki.cert_sans;
        }
        if pki.roots == roots {
            return;
        }
        if pki.roots.first() != roots.first() {
            console::log("machine.ca changed: restart apid to issue certificates from the new CA; accepting clients of both meanwhile");
        }
        let mut accepted = pki.roots;
        for old in roots.iter().take(1) {
            if !accepted.contains(old) {
                accepted.push(old.clone());
            }
        }
        match server_config(server_cert.clone(), &ClientAuth::Required { roots: accepted.clone() }) {
            Ok(config) => {
                tls.set(config);
                console::log("trusted client CAs updated from the machine config");
                roots = accepted;
            }
            Err(err) => console::log(format_args!("keeping the trusted client CAs: {err}")),
        }
    })
    .await;
}

fn issue_server(
    ca: &CertificateAuthority,
    names: &ServerNames,
    lifetime: Duration,
) -> Result<Arc<CertifiedKey>, CertError> {
    let issued = certs::issue_server_certificate(ca, names, lifetime)?;
    let (cert, key) = certs::to_der(&issued, "apid's server certificate")?;
    certs::certified_key(cert, &key, "apid's server certificate")
}

fn issue_client(
    ca: &CertificateAuthority,
    lifetime: Duration,
) -> Result<Arc<CertifiedKey>, CertError> {
    let issued = certs::issue_impersonator_certificate(ca, lifetime)?;
    let (cert, key) = certs::to_der(&issued, "apid's node-to-node client certificate")?;
    certs::certified_key(cert, &key, "apid's node-to-node client certificate")
}

/// The CA certificates in a PEM file.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ApidError> {
    let error = |reason: String| ApidError::MaintenanceCa {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if certs.is_empty() {
        return Err(error("no CERTIFICATE block found".to_string()));
    }
    Ok(certs)
}
