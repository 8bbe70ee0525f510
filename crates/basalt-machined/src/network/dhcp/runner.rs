//! The background DHCP task of one link: acquire, install, renew at T1, rebind at T2,
//! start over when the lease is lost; on stop, release and remove the address.

use std::time::Duration;

use basalt_resources::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::client::{Answer, Client};
use super::lease::{self, Lease};
use super::resolver::{self, ResolverStatusSpec};
use super::DhcpError;
use crate::network::resource::{self, AddressSource, AddressStatusSpec};
use crate::pid1::console;

/// Shortest wait between renew (or rebind) attempts.
const MIN_RETRY: Duration = Duration::from_secs(10);
/// Wait after an unexpected error before acquiring again.
const ERROR_PAUSE: Duration = Duration::from_secs(5);

/// A running DHCP client.
#[derive(Debug)]
pub struct Handle {
    link: String,
    cancel: CancellationToken,
    lease: watch::Receiver<Option<Lease>>,
    task: JoinHandle<()>,
}

/// Starts the client in the background (stopped by [`Handle::stop`] or when `parent` fires).
/// Leases are installed on the link and published in `store`.
pub fn start(client: Client, store: Store, parent: &CancellationToken) -> Handle {
    let cancel = parent.child_token();
    let (tx, rx) = watch::channel(None);
    let link = client.link().to_string();
    let task = tokio::spawn(run(client, store, cancel.clone(), tx));
    Handle {
        link,
        cancel,
        lease: rx,
        task,
    }
}

impl Handle {
    /// The link the client runs on.
    pub fn link(&self) -> &str {
        &self.link
    }

    /// The current lease, if any.
    pub fn lease(&self) -> Option<Lease> {
        self.lease.borrow().clone()
    }

    /// Waits up to `timeout` for a lease.
    pub async fn wait_for_lease(&mut self, timeout: Duration) -> Option<Lease> {
        let got = tokio::time::timeout(timeout, self.lease.wait_for(Option::is_some)).await;
        match got {
            Ok(Ok(lease)) => lease.clone(),
            _ => None,
        }
    }

    /// Stops the client: releases the lease (DHCPRELEASE), removes the address (and with it
    /// the default route) and withdraws the published statuses.
    pub async fn stop(self) {
        self.cancel.cancel();
        if let Err(e) = self.task.await {
            console::log(format_args!(
                "dhcp: {}: client task ended badly: {e}",
                self.link
            ));
        }
    }
}

async fn run(
    client: Client,
    store: Store,
    cancel: CancellationToken,
    tx: watch::Sender<Option<Lease>>,
) {
    let mut current: Option<Lease> = None;
    keep_leased(&client, &store, &cancel, &tx, &mut current).await;
    if let Some(l) = current {
        if let Err(e) = client.release(&l).await {
            console::log(format_args!("dhcp: release of {}: {e}", l.cidr()));
        }
        drop_lease(&client, &store, &l);
        console::log(format_args!(
            "dhcp: {} released {}",
            client.link(),
            l.cidr()
        ));
    }
    tx.send_replace(None);
}

/// Sleeps until `at`; `false` when cancelled first.
async fn sleep_until(at: Instant, cancel: &CancellationToken) -> bool {
    tokio::select! {
        () = cancel.cancelled() => false,
        () = tokio::time::sleep_until(at) => true,
    }
}

/// Acquires and keeps a lease until cancelled (the lease in effect stays in `current`).
async fn keep_leased(
    client: &Client,
    store: &Store,
    cancel: &CancellationToken,
    tx: &watch::Sender<Option<Lease>>,
    current: &mut Option<Lease>,
) {
    loop {
        let started = Instant::now();
        let new = match client.acquire(cancel).await {
            Ok(l) => l,
            Err(DhcpError::Cancelled) => return,
            Err(e) => {
                console::log(format_args!("dhcp: {e}; trying again in {ERROR_PAUSE:?}"));
                if !sleep_until(Instant::now() + ERROR_PAUSE, cancel).await {
                    return;
                }
                continue;
            }
        };
        install(client, store, current, new, Some(started.elapsed()));
        tx.send_replace(current.clone());
        // bound: renew at T1, rebind at T2, until lost or cancelled
        while let Some(l) = current.clone() {
            if !sleep_until(l.acquired + l.t1, cancel).await {
                return;
            }
            match extend(client, &l, cancel).await {
                None => return,
                Some(Some(new)) => {
                    install(client, store, current, new, None);
                    tx.send_replace(current.clone());
                }
                Some(None) => {
                    drop_lease(client, store, &l);
                    *current = None;
                    tx.send_replace(None);
                    console::log(format_args!(
                        "dhcp: {} lost {}; acquiring a new lease",
                        client.link(),
                        l.cidr()
                    ));
                }
            }
        }
    }
}

/// Renews `l` (unicast) until T2, then rebinds (broadcast) until it expires. `None` when
/// cancelled, `Some(None)` when the lease is lost (NAK or expiry).
async fn extend(client: &Client, l: &Lease, cancel: &CancellationToken) -> Option<Option<Lease>> {
    loop {
        let now = Instant::now();
        if now >= l.expires() {
            return Some(None);
        }
        let rebinding = now >= l.acquired + l.t2;
        let answer = if rebinding {
            client.rebind(l, cancel).await
        } else {
            client.renew(l, cancel).await
        };
        match answer {
            Err(DhcpError::Cancelled) => return None,
            Ok(Some(Answer::Ack(new))) => return Some(Some(new)),
            Ok(Some(Answer::Nak(_))) => return Some(None),
            Ok(None) => {}
            Err(e) => console::log(format_args!("dhcp: {e}")),
        }
        let boundary = if rebinding {
            l.expires()
        } else {
            l.acquired + l.t2
        };
        let half = boundary.saturating_duration_since(Instant::now()) / 2;
        let next = (Instant::now() + half.max(MIN_RETRY)).min(boundary);
        if !sleep_until(next, cancel).await {
            return None;
        }
    }
}

/// Puts `new` on the link (replacing a different previous lease) and publishes it.
fn install(
    client: &Client,
    store: &Store,
    current: &mut Option<Lease>,
    new: Lease,
    took: Option<Duration>,
) {
    if let Some(old) = current.as_ref().filter(|o| o.address != new.address) {
        drop_lease(client, store, old);
    }
    if let Err(e) = lease::apply(client.index(), &new) {
        console::log(format_args!(
            "dhcp: {}: cannot install {}: {e}",
            client.link(),
            new.cidr()
        ));
    }
    publish(store, client.link(), Some(&new));
    let via = new
        .routers
        .first()
        .map(|r| format!(" via {r}"))
        .unwrap_or_default();
    match took {
        Some(t) => console::log(format_args!(
            "dhcp: {} {}{via} lease {} s ({:.1} s)",
            client.link(),
            new.cidr(),
            new.lease_time.as_secs(),
            t.as_secs_f64()
        )),
        None => console::log(format_args!(
            "dhcp: {} renewed {}{via} lease {} s",
            client.link(),
            new.cidr(),
            new.lease_time.as_secs()
        )),
    }
    *current = Some(new);
}

fn drop_lease(client: &Client, store: &Store, l: &Lease) {
    if let Err(e) = lease::remove(client.index(), l) {
        console::log(format_args!("dhcp: {e}"));
    }
    publish(store, client.link(), None);
}

/// Publishes the address and resolvers of `lease` on `link` (`None` withdraws them).
pub fn publish(store: &Store, link: &str, lease: Option<&Lease>) {
    let mut others = resource::published_from(store, AddressSource::Dhcp);
    others.retain(|s| s.link_name != link);
    let resolvers = lease.map(|l| ResolverStatusSpec {
        link_name: link.to_string(),
        dns_servers: l.dns_servers.iter().map(ToString::to_string).collect(),
        search_domains: l.domain.iter().cloned().collect(),
    });
    if let Some(l) = lease {
        others.push(AddressStatusSpec::dhcp(link, &l.cidr()));
    }
    let published = resource::publish_from(store, AddressSource::Dhcp, &others)
        .and_then(|()| resolver::publish(store, link, resolvers.as_ref()));
    if let Err(e) = published {
        console::log(format_args!("dhcp: {link}: cannot publish the lease: {e}"));
    }
}
