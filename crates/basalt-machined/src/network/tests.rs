//! The real thing on `lo` of a private network namespace (one test thread unshares its
//! network namespace; the rest of the test process is untouched). Needs root.

#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::Duration;

use basalt_config::MachineConfig;
use basalt_resources::Store;
use tokio_util::sync::CancellationToken;

use super::{configure, AddressStatusSpec};

fn config(interfaces: &str) -> MachineConfig {
    MachineConfig::from_yaml(&format!(
        "version: v1alpha1\nmachine:\n  type: worker\n  network:\n    interfaces:\n{interfaces}\ncluster: {{}}\n"
    ))
    .unwrap()
}

fn addresses() -> Vec<IpAddr> {
    nix::ifaddrs::getifaddrs()
        .unwrap()
        .filter_map(|ifa| {
            let a = ifa.address?;
            Some(a.as_sockaddr_in()?.ip().into())
        })
        .collect()
}

/// Runs `f` on a thread with its own network namespace and a current-thread runtime.
fn in_private_netns<F: std::future::Future<Output = ()>>(f: impl FnOnce() -> F + Send + 'static) {
    std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .expect("unshare(CLONE_NEWNET) needs root");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f());
    })
    .join()
    .unwrap();
}

#[test]
fn configures_lo_idempotently_and_removes_stale_addresses() {
    in_private_netns(|| async {
        let store = Store::new();
        let cancel = CancellationToken::new();
        let wait = Duration::from_secs(5);
        let first = config(
            "    - interface: lo\n      mtu: 1400\n      addresses: [10.77.0.1/24, 10.77.1.1/24]\n      routes:\n        - {network: 10.78.0.0/16}\n        - {network: 10.79.0.0/16, gateway: 10.77.0.254, metric: 300}",
        );
        let got = configure(&store, &first, wait, &cancel).await.unwrap();
        assert_eq!(got.len(), 2);
        let ips = addresses();
        assert!(ips.contains(&"10.77.0.1".parse().unwrap()), "{ips:?}");
        assert!(ips.contains(&"10.77.1.1".parse().unwrap()), "{ips:?}");
        // The routes exist: connecting a UDP socket needs a route to the destination.
        let udp = std::net::UdpSocket::bind("10.77.0.1:0").unwrap();
        udp.connect("10.78.3.4:9").unwrap();
        udp.connect("10.79.3.4:9").unwrap();

        // Again (reboot in place): EEXIST everywhere, same result.
        let again = configure(&store, &first, wait, &cancel).await.unwrap();
        assert_eq!(again, got);

        // A new config without the second address: it goes away, status and all.
        let second = config("    - interface: lo\n      addresses: [10.77.0.1/24]");
        configure(&store, &second, wait, &cancel).await.unwrap();
        let ips = addresses();
        assert!(!ips.contains(&"10.77.1.1".parse().unwrap()), "{ips:?}");
        let statuses = super::resource::published(&store);
        assert_eq!(
            statuses,
            vec![AddressStatusSpec::new(
                "lo",
                &"10.77.0.1/24".parse().unwrap()
            )]
        );
    });
}

#[test]
fn missing_link_is_skipped_after_the_wait() {
    in_private_netns(|| async {
        let store = Store::new();
        let c = config("    - interface: bslt-none0\n      addresses: [10.77.9.1/24]");
        let got = configure(
            &store,
            &c,
            Duration::from_millis(300),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert!(got.is_empty());
        assert!(super::resource::published(&store).is_empty());
    });
}
