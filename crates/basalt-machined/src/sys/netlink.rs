//! rtnetlink requests over safe socket calls: link up and MTU (`RTM_NEWLINK`), addresses
//! (`RTM_NEWADDR`/`RTM_DELADDR`) and routes (`RTM_NEWROUTE`), in the caller's network namespace.
//!
//! Every request is one message on a fresh `NETLINK_ROUTE` socket, acknowledged by the kernel
//! (`NLM_F_ACK`); a negative acknowledgement becomes a [`SysError`] carrying the errno, so
//! callers can treat `EEXIST` as "already done".

use std::net::IpAddr;
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{
    recv, sendto, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

use super::{SysError, SysResult};

const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_NEWROUTE: u16 = 24;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const IFF_UP: u32 = 1;
const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const IFLA_MTU: u16 = 4;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_METRICS: u16 = 8;
const RTAX_MTU: u16 = 2;
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_STATIC: u8 = 4;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;
const RTN_UNICAST: u8 = 1;

/// A static route to add (`RTM_NEWROUTE`, main table, protocol `static`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRequest {
    /// Outgoing link (interface index).
    pub index: u32,
    /// Destination network and prefix length; `None` is the default route.
    pub destination: Option<(IpAddr, u8)>,
    /// Next hop; `None` makes a link-scope route.
    pub gateway: Option<IpAddr>,
    /// Preferred source address.
    pub source: Option<IpAddr>,
    /// Route priority (metric).
    pub metric: Option<u32>,
    /// Route MTU.
    pub mtu: Option<u32>,
}

/// One rtnetlink message under construction: `nlmsghdr`, a fixed family header, attributes.
struct Message {
    buf: Vec<u8>,
}

impl Message {
    /// A request of `kind` with `flags` (plus `NLM_F_REQUEST | NLM_F_ACK`), sequence 1.
    fn new(kind: u16, flags: u16) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_len, set by `finish`
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK | flags).to_ne_bytes());
        buf.extend_from_slice(&1u32.to_ne_bytes()); // nlmsg_seq
        buf.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: the kernel
        Message { buf }
    }

    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }

    /// Appends one `rtattr` (type, payload), padded to 4 bytes.
    fn attr(&mut self, kind: u16, payload: &[u8]) -> &mut Self {
        let len = 4 + payload.len();
        self.buf
            .extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        self.buf.resize(self.buf.len() + (4 - len % 4) % 4, 0);
        self
    }

    /// The finished bytes with `nlmsg_len` filled in.
    fn finish(&mut self) -> Vec<u8> {
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        std::mem::take(&mut self.buf)
    }
}

/// `ifinfomsg`: family, type, index, flags and the flags to change.
fn ifinfo(index: u32, flags: u32, change: u32) -> Vec<u8> {
    let mut b = vec![AF_UNSPEC, 0];
    b.extend_from_slice(&0u16.to_ne_bytes());
    b.extend_from_slice(&index.to_ne_bytes());
    b.extend_from_slice(&flags.to_ne_bytes());
    b.extend_from_slice(&change.to_ne_bytes());
    b
}

fn family(ip: &IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

fn octets(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// `RTM_NEWLINK` setting `IFF_UP`.
fn link_up_request(index: u32) -> Vec<u8> {
    Message::new(RTM_NEWLINK, 0)
        .bytes(&ifinfo(index, IFF_UP, IFF_UP))
        .finish()
}

/// `RTM_NEWLINK` with `IFLA_MTU`, no flag change.
fn mtu_request(index: u32, mtu: u32) -> Vec<u8> {
    Message::new(RTM_NEWLINK, 0)
        .bytes(&ifinfo(index, 0, 0))
        .attr(IFLA_MTU, &mtu.to_ne_bytes())
        .finish()
}

/// `RTM_NEWADDR` (create, exclusive) or `RTM_DELADDR` of `ip/prefix` on link `index`.
fn address_request(kind: u16, index: u32, ip: &IpAddr, prefix: u8) -> Vec<u8> {
    let flags = if kind == RTM_NEWADDR {
        NLM_F_CREATE | NLM_F_EXCL
    } else {
        0
    };
    let mut header = vec![family(ip), prefix, 0, RT_SCOPE_UNIVERSE];
    header.extend_from_slice(&index.to_ne_bytes());
    Message::new(kind, flags)
        .bytes(&header)
        .attr(IFA_LOCAL, &octets(ip))
        .attr(IFA_ADDRESS, &octets(ip))
        .finish()
}

/// `RTM_NEWROUTE` (create, exclusive) for `r`.
fn route_request(r: &RouteRequest) -> Vec<u8> {
    let fam = r
        .destination
        .map(|(ip, _)| family(&ip))
        .or(r.gateway.as_ref().map(family))
        .unwrap_or(AF_INET);
    let scope = if r.gateway.is_some() {
        RT_SCOPE_UNIVERSE
    } else {
        RT_SCOPE_LINK
    };
    let dst_len = r.destination.map(|(_, p)| p).unwrap_or(0);
    let mut header = vec![
        fam,
        dst_len,
        0,
        0,
        RT_TABLE_MAIN,
        RTPROT_STATIC,
        scope,
        RTN_UNICAST,
    ];
    header.extend_from_slice(&0u32.to_ne_bytes()); // rtm_flags
    let mut m = Message::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    m.bytes(&header);
    if let Some((ip, _)) = r.destination.filter(|(_, p)| *p > 0) {
        m.attr(RTA_DST, &octets(&ip));
    }
    if let Some(gw) = &r.gateway {
        m.attr(RTA_GATEWAY, &octets(gw));
    }
    if let Some(src) = &r.source {
        m.attr(RTA_PREFSRC, &octets(src));
    }
    m.attr(RTA_OIF, &r.index.to_ne_bytes());
    if let Some(metric) = r.metric {
        m.attr(RTA_PRIORITY, &metric.to_ne_bytes());
    }
    if let Some(mtu) = r.mtu {
        let mut nested = Vec::new();
        nested.extend_from_slice(&8u16.to_ne_bytes());
        nested.extend_from_slice(&RTAX_MTU.to_ne_bytes());
        nested.extend_from_slice(&mtu.to_ne_bytes());
        m.attr(RTA_METRICS, &nested);
    }
    m.finish()
}

/// The error code of an `NLMSG_ERROR` reply (0 is the acknowledgement).
fn reply_error(reply: &[u8]) -> Option<i32> {
    let kind = u16::from_ne_bytes(reply.get(4..6)?.try_into().ok()?);
    if kind != NLMSG_ERROR {
        return None;
    }
    Some(i32::from_ne_bytes(reply.get(16..20)?.try_into().ok()?))
}

/// Sends `request` and waits for the kernel's acknowledgement.
fn transact(op: &str, request: &[u8]) -> SysResult {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(|e| SysError::errno(op, e))?;
    let kernel = NetlinkAddr::new(0, 0);
    sendto(fd.as_raw_fd(), request, &kernel, MsgFlags::empty())
        .map_err(|e| SysError::errno(op, e))?;
    let mut buf = [0u8; 4096];
    let n =
        recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()).map_err(|e| SysError::errno(op, e))?;
    match reply_error(&buf[..n]) {
        Some(0) => Ok(()),
        Some(code) => Err(SysError::errno(op, Errno::from_raw(-code))),
        None => Err(SysError::errno(op, Errno::EPROTO)),
    }
}

/// Whether `e` is the kernel saying the object already exists (`EEXIST`).
pub fn already_exists(e: &SysError) -> bool {
    e.cause.raw_os_error() == Some(Errno::EEXIST as i32)
}

/// The interface index of link `name`, or `None` when no such link exists (yet).
pub fn link_index(name: &str) -> SysResult<Option<u32>> {
    match nix::net::if_::if_nametoindex(name) {
        Ok(index) => Ok(Some(index)),
        Err(Errno::ENODEV) => Ok(None),
        Err(e) => Err(SysError::errno(format!("look up link {name}"), e)),
    }
}

/// Sets `IFF_UP` on the link with interface index `index`.
pub fn link_up(index: u32) -> SysResult {
    transact(
        &format!("set link {index} up (rtnetlink)"),
        &link_up_request(index),
    )
}

/// Sets the MTU of link `index`.
pub fn set_mtu(index: u32, mtu: u32) -> SysResult {
    transact(
        &format!("set mtu {mtu} on link {index} (rtnetlink)"),
        &mtu_request(index, mtu),
    )
}

/// Adds `ip/prefix` to link `index` (fails with `EEXIST` when present; see [`already_exists`]).
pub fn add_address(index: u32, ip: IpAddr, prefix: u8) -> SysResult {
    transact(
        &format!("add address {ip}/{prefix} to link {index} (rtnetlink)"),
        &address_request(RTM_NEWADDR, index, &ip, prefix),
    )
}

/// Removes `ip/prefix` from link `index`.
pub fn delete_address(index: u32, ip: IpAddr, prefix: u8) -> SysResult {
    transact(
        &format!("delete address {ip}/{prefix} from link {index} (rtnetlink)"),
        &address_request(RTM_DELADDR, index, &ip, prefix),
    )
}

/// Adds route `r` (fails with `EEXIST` when present; see [`already_exists`]).
pub fn add_route(r: &RouteRequest) -> SysResult {
    let dst = r
        .destination
        .map(|(ip, p)| format!("{ip}/{p}"))
        .unwrap_or_else(|| "default".into());
    let via = r.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
    transact(
        &format!("add route {dst}{via} on link {} (rtnetlink)", r.index),
        &route_request(r),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_ne_bytes(b[at..at + 2].try_into().unwrap())
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// `(type, payload)` of every attribute from `at` on.
    fn attrs(b: &[u8], mut at: usize) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        while at < b.len() {
            let len = u16_at(b, at) as usize;
            out.push((u16_at(b, at + 2), b[at + 4..at + len].to_vec()));
            at += len.div_ceil(4) * 4;
        }
        out
    }

    #[test]
    fn link_up_layout() {
        let r = link_up_request(1);
        assert_eq!(r.len(), 32);
        assert_eq!(u32_at(&r, 0), 32);
        assert_eq!(u16_at(&r, 4), RTM_NEWLINK);
        assert_eq!(u16_at(&r, 6), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(u32_at(&r, 20), 1);
        assert_eq!(u32_at(&r, 24), IFF_UP);
        assert_eq!(u32_at(&r, 28), IFF_UP);
    }

    #[test]
    fn mtu_layout() {
        let r = mtu_request(3, 1400);
        assert_eq!(u32_at(&r, 0) as usize, r.len());
        assert_eq!(u32_at(&r, 24), 0, "no flag change");
        assert_eq!(
            attrs(&r, 32),
            vec![(IFLA_MTU, 1400u32.to_ne_bytes().to_vec())]
        );
    }

    #[test]
    fn address_layout() {
        let ip: IpAddr = "10.5.0.2".parse().unwrap();
        let r = address_request(RTM_NEWADDR, 7, &ip, 24);
        assert_eq!(u32_at(&r, 0) as usize, r.len());
        assert_eq!(u16_at(&r, 4), RTM_NEWADDR);
        assert_eq!(
            u16_at(&r, 6),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
        );
        assert_eq!(&r[16..20], &[AF_INET, 24, 0, RT_SCOPE_UNIVERSE]);
        assert_eq!(u32_at(&r, 20), 7);
        let expected = vec![10, 5, 0, 2];
        assert_eq!(
            attrs(&r, 24),
            vec![(IFA_LOCAL, expected.clone()), (IFA_ADDRESS, expected)]
        );
        let v6: IpAddr = "fd00::1".parse().unwrap();
        let r = address_request(RTM_DELADDR, 7, &v6, 64);
        assert_eq!(u16_at(&r, 6), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(r[16], AF_INET6);
        assert_eq!(attrs(&r, 24)[0].1.len(), 16);
    }

    #[test]
    fn route_layout() {
        let r = route_request(&RouteRequest {
            index: 2,
            destination: Some(("192.168.0.0".parse().unwrap(), 16)),
            gateway: Some("10.5.0.1".parse().unwrap()),
            source: None,
            metric: Some(1024),
            mtu: Some(1400),
        });
        assert_eq!(u32_at(&r, 0) as usize, r.len());
        assert_eq!(u16_at(&r, 4), RTM_NEWROUTE);
        assert_eq!(
            &r[16..24],
            &[
                AF_INET,
                16,
                0,
                0,
                RT_TABLE_MAIN,
                RTPROT_STATIC,
                RT_SCOPE_UNIVERSE,
                RTN_UNICAST
            ]
        );
        let a = attrs(&r, 28);
        assert_eq!(a[0], (RTA_DST, vec![192, 168, 0, 0]));
        assert_eq!(a[1], (RTA_GATEWAY, vec![10, 5, 0, 1]));
        assert_eq!(a[2], (RTA_OIF, 2u32.to_ne_bytes().to_vec()));
        assert_eq!(a[3], (RTA_PRIORITY, 1024u32.to_ne_bytes().to_vec()));
        assert_eq!(a[4].0, RTA_METRICS);
        assert_eq!(
            attrs(&a[4].1, 0),
            vec![(RTAX_MTU, 1400u32.to_ne_bytes().to_vec())]
        );
    }

    #[test]
    fn default_link_route_has_no_destination() {
        let r = route_request(&RouteRequest {
            index: 2,
            destination: None,
            gateway: None,
            source: Some("10.5.0.2".parse().unwrap()),
            metric: None,
            mtu: None,
        });
        assert_eq!(r[17], 0, "dst_len");
        assert_eq!(r[22], RT_SCOPE_LINK);
        let kinds: Vec<u16> = attrs(&r, 28).into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, vec![RTA_PREFSRC, RTA_OIF]);
    }

    #[test]
    fn attributes_are_padded() {
        let r = Message::new(RTM_NEWLINK, 0)
            .attr(99, &[1, 2, 3, 4, 5])
            .finish();
        assert_eq!(r.len(), 16 + 12);
        assert_eq!(u16_at(&r, 16), 9, "rta_len excludes the padding");
    }

    #[test]
    fn ack_and_error_replies() {
        let mut ack = vec![0u8; 36];
        ack[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        assert_eq!(reply_error(&ack), Some(0));
        ack[16..20].copy_from_slice(&(-1i32).to_ne_bytes());
        assert_eq!(reply_error(&ack), Some(-1));
        assert_eq!(reply_error(&[0u8; 3]), None);
    }

    #[test]
    fn missing_link_is_none() {
        assert_eq!(link_index("bslt-nolink0").unwrap(), None);
    }
}
