//! The DHCPv4 exchanges on one link: DISCOVER → OFFER → REQUEST → ACK, renewing (unicast
//! REQUEST to the server), rebinding (broadcast REQUEST) and RELEASE, with retransmission
//! (exponential backoff 1, 2, 4 … 64 s plus up to 1 s of jitter).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::OwnedFd;
use std::time::Duration;

use nix::sys::socket::{
    bind, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn,
};
use tokio::net::UdpSocket;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::lease::Lease;
use super::packet::{Message, MessageType, CLIENT_PORT, MAX_MESSAGE, SERVER_PORT};
use super::DhcpError;

/// Options we ask servers for: subnet mask, router, DNS, domain, lease/T1/T2.
const PARAMETERS: [u8; 7] = [1, 3, 6, 15, 51, 58, 59];
/// The longest wait between retransmissions.
const MAX_BACKOFF: Duration = Duration::from_secs(64);
/// How many REQUESTs after an OFFER before starting over with DISCOVER.
const REQUEST_TRIES: u32 = 4;
/// How many tries one renew/rebind/release makes.
const RENEW_TRIES: u32 = 3;

/// What a server said to a REQUEST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// DHCPACK: the (new or extended) lease.
    Ack(Lease),
    /// DHCPNAK: the address is not ours (any more); start over.
    Nak(Option<String>),
}

/// A DHCP client on one link (a UDP socket on port 68 bound to it).
#[derive(Debug)]
pub struct Client {
    link: String,
    index: u32,
    mac: [u8; 6],
    socket: UdpSocket,
    hostname: Option<String>,
}

impl Client {
    /// Opens the client socket on `link` (needs `CAP_NET_RAW`/root for `SO_BINDTODEVICE`
    /// and port 68). `hostname` is sent in option 12 when given.
    pub fn open(link: &str, hostname: Option<String>) -> Result<Self, DhcpError> {
        let index = crate::sys::netlink::link_index(link)
            .map_err(|e| DhcpError::Link {
                link: link.into(),
                why: e.to_string(),
            })?
            .ok_or_else(|| DhcpError::Link {
                link: link.into(),
                why: "no such link".into(),
            })?;
        let mac = mac_of(link)?;
        let socket = open_socket(link).map_err(|e| DhcpError::Socket {
            link: link.into(),
            cause: e,
        })?;
        Ok(Client {
            link: link.into(),
            index,
            mac,
            socket,
            hostname,
        })
    }

    /// The link name.
    pub fn link(&self) -> &str {
        &self.link
    }

    /// The link's interface index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The link's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn message(&self, kind: MessageType, xid: u32) -> Message {
        let mut m = Message::request(kind, xid, self.mac);
        let mut id = vec![1];
        id.extend_from_slice(&self.mac);
        m.options.client_id = Some(id);
        if kind != MessageType::Release {
            m.options.parameter_request = PARAMETERS.to_vec();
            m.options.max_message_size = u16::try_from(MAX_MESSAGE).ok();
            m.options.hostname = self.hostname.clone();
        }
        m
    }

    /// Acquires a lease from scratch (DISCOVER, first OFFER, REQUEST, ACK), retrying forever
    /// with backoff; `Err(Cancelled)` when `cancel` fires.
    pub async fn acquire(&self, cancel: &CancellationToken) -> Result<Lease, DhcpError> {
        let start = Instant::now();
        loop {
            let xid = random_u32();
            let mut discover = self.message(MessageType::Discover, xid);
            discover.broadcast = true;
            let offer = self
                .exchange(&discover, broadcast(), u32::MAX, start, cancel, |m| {
                    (m.options.message_type == Some(MessageType::Offer)
                        && !m.yiaddr.is_unspecified()
                        && m.options.server_id.is_some())
                    .then(|| m.clone())
                })
                .await?;
            let Some(offer) = offer else { continue };
            let server = offer.options.server_id;
            let mut request = self.message(MessageType::Request, xid);
            request.broadcast = true;
            request.options.requested_ip = Some(offer.yiaddr);
            request.options.server_id = server;
            let answer = self
                .exchange(&request, broadcast(), REQUEST_TRIES, start, cancel, |m| {
                    (m.options.server_id == server).then(|| answer(m)).flatten()
                })
                .await?;
            match answer {
                Some(Answer::Ack(lease)) => return Ok(lease),
                Some(Answer::Nak(why)) => {
                    crate::pid1::console::log(format_args!(
                        "dhcp: {}: server {} refused {} ({}); starting over",
                        self.link,
                        server.map(|s| s.to_string()).unwrap_or_default(),
                        offer.yiaddr,
                        why.unwrap_or_else(|| "no reason given".into())
                    ));
                }
                None => {}
            }
        }
    }

    /// Renews `lease` at T1: a REQUEST with `ciaddr` sent by unicast to the granting server.
    /// `Ok(None)` when no server answered.
    pub async fn renew(
        &self,
        lease: &Lease,
        cancel: &CancellationToken,
    ) -> Result<Option<Answer>, DhcpError> {
        let to = SocketAddrV4::new(lease.server, SERVER_PORT);
        self.extend(lease, to, cancel).await
    }

    /// Rebinds `lease` at T2: a REQUEST with `ciaddr` to every server (broadcast).
    pub async fn rebind(
        &self,
        lease: &Lease,
        cancel: &CancellationToken,
    ) -> Result<Option<Answer>, DhcpError> {
        self.extend(lease, broadcast(), cancel).await
    }

    async fn extend(
        &self,
        lease: &Lease,
        to: SocketAddrV4,
        cancel: &CancellationToken,
    ) -> Result<Option<Answer>, DhcpError> {
        let mut request = self.message(MessageType::Request, random_u32());
        request.ciaddr = lease.address;
        self.exchange(&request, to, RENEW_TRIES, Instant::now(), cancel, answer)
            .await
    }

    /// Gives `lease` back (one unicast DHCPRELEASE; servers do not answer).
    pub async fn release(&self, lease: &Lease) -> Result<(), DhcpError> {
        let mut m = self.message(MessageType::Release, random_u32());
        m.ciaddr = lease.address;
        m.options.server_id = Some(lease.server);
        self.send(&m, SocketAddrV4::new(lease.server, SERVER_PORT))
            .await
    }

    async fn send(&self, m: &Message, to: SocketAddrV4) -> Result<(), DhcpError> {
        self.socket
            .send_to(&m.encode(), to)
            .await
            .map(|_| ())
            .map_err(|cause| DhcpError::Send {
                link: self.link.clone(),
                to,
                cause,
            })
    }

    /// Sends `m` to `to` up to `tries` times with backoff and returns the first reply for
    /// which `accept` gives `Some` (`Ok(None)` once the tries are used up). Replies with a
    /// different xid or chaddr, and undecodable datagrams, are ignored.
    async fn exchange<T>(
        &self,
        m: &Message,
        to: SocketAddrV4,
        tries: u32,
        start: Instant,
        cancel: &CancellationToken,
        accept: impl Fn(&Message) -> Option<T>,
    ) -> Result<Option<T>, DhcpError> {
        let mut m = m.clone();
        let mut wait = Duration::from_secs(1);
        let mut buf = vec![0u8; MAX_MESSAGE + 1];
        for _ in 0..tries {
            m.secs = u16::try_from(start.elapsed().as_secs()).unwrap_or(u16::MAX);
            // a send error (e.g. the link is still down) counts as a lost packet
            if let Err(e) = self.send(&m, to).await {
                crate::pid1::console::log(format_args!("dhcp: {e}"));
            }
            let deadline = Instant::now() + wait + jitter();
            loop {
                let received = tokio::select! {
                    () = cancel.cancelled() => return Err(DhcpError::Cancelled),
                    () = tokio::time::sleep_until(deadline) => break,
                    r = self.socket.recv_from(&mut buf) => r,
                };
                let Ok((n, _from)) = received else { continue };
                let Ok(reply) = Message::decode(&buf[..n]) else {
                    continue;
                };
                if !reply.reply || reply.xid != m.xid || reply.chaddr != self.mac {
                    continue;
                }
                if let Some(t) = accept(&reply) {
                    return Ok(Some(t));
                }
            }
            wait = (wait * 2).min(MAX_BACKOFF);
        }
        Ok(None)
    }
}

fn answer(m: &Message) -> Option<Answer> {
    match m.options.message_type? {
        MessageType::Ack if !m.yiaddr.is_unspecified() => Some(Answer::Ack(Lease::from_ack(m))),
        MessageType::Nak => Some(Answer::Nak(m.options.message.clone())),
        _ => None,
    }
}

fn broadcast() -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::BROADCAST, SERVER_PORT)
}

/// A random 32-bit number (std's randomly keyed SipHash over a counter and the time).
pub(crate) fn random_u32() -> u32 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 16) as u32
}

/// 0 to 1 s.
fn jitter() -> Duration {
    Duration::from_millis(u64::from(random_u32() % 1000))
}

/// UDP 0.0.0.0:68 bound to `link`, broadcast allowed, address reusable, non-blocking.
fn open_socket(link: &str) -> std::io::Result<UdpSocket> {
    let fd: OwnedFd = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    setsockopt(&fd, sockopt::Broadcast, &true)?;
    setsockopt(&fd, sockopt::BindToDevice, &std::ffi::OsString::from(link))?;
    bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, CLIENT_PORT)),
    )?;
    UdpSocket::from_std(std::net::UdpSocket::from(fd))
}

/// The MAC address of `link` (from `getifaddrs`, so it works in any network namespace).
fn mac_of(link: &str) -> Result<[u8; 6], DhcpError> {
    let err = |why: String| DhcpError::Link {
        link: link.into(),
        why,
    };
    let addrs = nix::ifaddrs::getifaddrs().map_err(|e| err(format!("getifaddrs: {e}")))?;
    addrs
        .filter(|ifa| ifa.interface_name == link)
        .find_map(|ifa| ifa.address?.as_link_addr()?.addr())
        .filter(|mac| mac.iter().any(|b| *b != 0))
        .ok_or_else(|| err("it has no Ethernet (MAC) address".into()))
}
