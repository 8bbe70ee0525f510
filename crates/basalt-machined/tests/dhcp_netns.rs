//! The DHCP client against a real `dnsmasq` across a veth pair between two private network
//! namespaces (`ip netns`). Needs root, `ip` (iproute2) and `dnsmasq` (dnsmasq-base).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use basalt_machined::network::dhcp::{self, Answer, Client, ResolverStatusSpec};
use basalt_machined::network::{AddressSource, AddressStatusSpec};
use basalt_resources::{Spec, Store};
use tokio_util::sync::CancellationToken;

const SERVER_IP: &str = "10.99.0.1";
const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 254);
const DNS: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 53);
const DOMAIN: &str = "basalt.test";

fn need(binary: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{binary}` is missing: install the Debian package {package} (cargo xtask test does)"
    );
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by a veth pair, dnsmasq serving on the server side; all removed on
/// drop.
struct Lab {
    server_ns: String,
    client_ns: String,
    client_link: String,
    dnsmasq: Child,
    _dir: tempfile::TempDir,
}

impl Lab {
    fn new(tag: &str) -> Lab {
        need("ip", "iproute2");
        need("dnsmasq", "dnsmasq-base");
        let id = format!("{}{tag}", std::process::id() % 100_000);
        let server_ns = format!("bsd-s{id}");
        let client_ns = format!("bsd-c{id}");
        let (srv, cli) = (format!("bs{id}"), format!("bc{id}"));
        ip(&["netns", "add", &server_ns]);
        ip(&["netns", "add", &client_ns]);
        ip(&[
            "link", "add", &srv, "netns", &server_ns, "type", "veth", "peer", "name", &cli,
            "netns", &client_ns,
        ]);
        let sx = |args: &[&str]| {
            let mut a = vec!["-n", server_ns.as_str()];
            a.extend_from_slice(args);
            ip(&a);
        };
        sx(&["addr", "add", &format!("{SERVER_IP}/24"), "dev", &srv]);
        sx(&["link", "set", &srv, "up"]);
        sx(&["link", "set", "lo", "up"]);
        ip(&["-n", &client_ns, "link", "set", "lo", "up"]);
        let dir = tempfile::tempdir().unwrap();
        let dnsmasq = Command::new("ip")
            .args([
                "netns",
                "exec",
                &server_ns,
                "dnsmasq",
                "--no-daemon",
                "--port=0",
            ])
            .arg(format!("--interface={srv}"))
            .args([
                "--bind-interfaces",
                "--conf-file=/dev/null",
                "--dhcp-authoritative",
                "--no-ping",
            ])
            .arg("--dhcp-range=10.99.0.50,10.99.0.60,255.255.255.0,2m")
            .arg(format!("--dhcp-option=option:router,{ROUTER}"))
            .arg(format!("--dhcp-option=option:dns-server,{DNS}"))
            .arg(format!("--dhcp-option=option:domain-name,{DOMAIN}"))
            .arg(format!(
                "--dhcp-leasefile={}",
                dir.path().join("leases").display()
            ))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq");
        Lab {
            server_ns,
            client_ns,
            client_link: cli,
            dnsmasq,
            _dir: dir,
        }
    }

    /// Runs `f` on a thread inside the client namespace with a current-thread runtime.
    fn in_client<F: std::future::Future<Output = ()>>(
        &self,
        f: impl FnOnce(String) -> F + Send + 'static,
    ) {
        let ns = std::fs::File::open(format!("/run/netns/{}", self.client_ns)).unwrap();
        let link = self.client_link.clone();
        std::thread::spawn(move || {
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(f(link));
        })
        .join()
        .unwrap();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.dnsmasq.kill();
        let _ = self.dnsmasq.wait();
        for ns in [&self.server_ns, &self.client_ns] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn has_address(link: &str, want: Ipv4Addr) -> bool {
    nix::ifaddrs::getifaddrs().unwrap().any(|ifa| {
        ifa.interface_name == link
            && ifa.address.and_then(|a| a.as_sockaddr_in().map(|s| s.ip())) == Some(want)
    })
}

/// The source address the kernel picks towards a far destination (needs the default route).
fn default_route_source() -> Option<IpAddr> {
    let s = UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.77:9").ok()?;
    Some(s.local_addr().ok()?.ip())
}

#[test]
fn lease_renew_and_release_against_dnsmasq() {
    let lab = Lab::new("a");
    lab.in_client(|link| async move {
        let index = basalt_machined::sys::netlink::link_index(&link)
            .unwrap()
            .unwrap();
        basalt_machined::sys::netlink::link_up(index).unwrap();
        let client = Client::open(&link, Some("node-a".into())).unwrap();
        let cancel = CancellationToken::new();
        let lease = tokio::time::timeout(Duration::from_secs(40), client.acquire(&cancel))
            .await
            .expect("no lease from dnsmasq within 40 s")
            .unwrap();
        let octets = lease.address.octets();
        assert_eq!(&octets[..3], &[10, 99, 0], "{lease:?}");
        assert!((50..=60).contains(&octets[3]), "{lease:?}");
        assert_eq!(lease.prefix, 24);
        assert_eq!(lease.routers, vec![ROUTER]);
        assert_eq!(lease.dns_servers, vec![DNS]);
        assert_eq!(lease.domain.as_deref(), Some(DOMAIN));
        assert_eq!(lease.server, SERVER_IP.parse::<Ipv4Addr>().unwrap());
        assert_eq!(lease.lease_time, Duration::from_secs(120));
        assert!(lease.t1 < lease.t2 && lease.t2 < lease.lease_time);

        dhcp::lease::apply(index, &lease).unwrap();
        dhcp::lease::apply(index, &lease).unwrap(); // idempotent
        assert!(has_address(&link, lease.address));
        assert_eq!(default_route_source(), Some(IpAddr::V4(lease.address)));

        // T1: unicast renewal to the server, same address, fresh timers
        let renewed = client.renew(&lease, &cancel).await.unwrap();
        match renewed {
            Some(Answer::Ack(again)) => {
                assert_eq!(again.address, lease.address);
                assert!(again.acquired > lease.acquired);
                assert_eq!(again.lease_time, Duration::from_secs(120));
            }
            other => panic!("renewal: {other:?}"),
        }
        // T2: broadcast rebinding works as well
        let rebound = client.rebind(&lease, &cancel).await.unwrap();
        assert!(matches!(rebound, Some(Answer::Ack(_))), "{rebound:?}");

        client.release(&lease).await.unwrap();
        dhcp::lease::remove(index, &lease).unwrap();
        dhcp::lease::remove(index, &lease).unwrap(); // already gone: fine
        assert!(!has_address(&link, lease.address));
        assert_eq!(
            default_route_source(),
            None,
            "the default route went with the address"
        );
    });
}

#[test]
fn background_client_publishes_and_cleans_up() {
    let lab = Lab::new("b");
    lab.in_client(|link| async move {
        let index = basalt_machined::sys::netlink::link_index(&link)
            .unwrap()
            .unwrap();
        basalt_machined::sys::netlink::link_up(index).unwrap();
        let store = Store::new();
        let client = Client::open(&link, None).unwrap();
        let mut handle = dhcp::start(client, store.clone(), &CancellationToken::new());
        let lease = handle
            .wait_for_lease(Duration::from_secs(40))
            .await
            .expect("no lease within 40 s");
        assert!(has_address(&link, lease.address));
        let addresses: Vec<AddressStatusSpec> = store
            .list(AddressStatusSpec::NAMESPACE, AddressStatusSpec::TYPE)
            .into_iter()
            .map(|r| r.spec_as().unwrap())
            .collect();
        assert_eq!(
            addresses,
            vec![AddressStatusSpec {
                address: lease.cidr(),
                link_name: link.clone(),
                source: AddressSource::Dhcp,
            }]
        );
        let resolver: ResolverStatusSpec = store
            .get(
                ResolverStatusSpec::NAMESPACE,
                ResolverStatusSpec::TYPE,
                &link,
            )
            .unwrap()
            .spec_as()
            .unwrap();
        assert_eq!(resolver.dns_servers, vec![DNS.to_string()]);
        assert_eq!(resolver.search_domains, vec![DOMAIN.to_string()]);

        handle.stop().await;
        assert!(!has_address(&link, lease.address));
        assert!(store
            .list(AddressStatusSpec::NAMESPACE, AddressStatusSpec::TYPE)
            .is_empty());
        assert!(store
            .get(
                ResolverStatusSpec::NAMESPACE,
                ResolverStatusSpec::TYPE,
                &link
            )
            .is_err());
    });
}
