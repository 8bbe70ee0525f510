//! The `etcd` service spec: the argv from [`EtcdArgs`], restarted forever, healthy when a
//! real `Status` call on the local client endpoint succeeds.

use std::sync::Arc;
use std::time::Duration;

use basalt_etcd::args::EtcdArgs;
use basalt_etcd::client::Client;
use basalt_etcd::pki::ClientTls;
use futures::FutureExt as _;

use super::error::EtcdServiceError;
use crate::machine::image_services::DEFAULT_PATH;
use crate::supervisor::{Backoff, HealthCheck, Probe, RestartPolicy, ServiceSpec};

/// Service id of etcd.
pub const ETCD_ID: &str = "etcd";

/// The service spec running etcd with `args` from the binary `etcd`.
pub fn spec(
    etcd: &std::path::Path,
    args: &EtcdArgs,
    tls: &ClientTls,
) -> Result<ServiceSpec, EtcdServiceError> {
    let argv = args.argv(etcd)?;
    let mut spec = ServiceSpec::new(ETCD_ID, argv);
    spec.env = vec![("PATH".to_string(), DEFAULT_PATH.to_string())];
    if std::env::consts::ARCH == "aarch64" {
        // etcd 3.4 refuses to start on arm64 without it.
        spec.env
            .push(("ETCD_UNSUPPORTED_ARCH".to_string(), "arm64".to_string()));
    }
    spec.restart = RestartPolicy::Forever;
    spec.backoff = Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(10),
    };
    spec.stop_timeout = Duration::from_secs(10);
    let endpoint = basalt_etcd::args::https_url(
        std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        args.ports.client,
    );
    let tls = tls.clone();
    spec.health = Some(HealthCheck {
        probe: Probe::InProcess(Arc::new(move || {
            let (endpoint, tls) = (endpoint.clone(), tls.clone());
            async move {
                let client = Client::connect(std::slice::from_ref(&endpoint), &tls)
                    .await
                    .map_err(|e| e.to_string())?;
                let status = client.status(&endpoint).await.map_err(|e| e.to_string())?;
                if status.errors.is_empty() {
                    Ok(())
                } else {
                    Err(status.errors.join("; "))
                }
            }
            .boxed()
        })),
        period: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        initial_delay: Duration::from_millis(500),
    });
    Ok(spec)
}
