//! Bringing a network link up with one rtnetlink request (`RTM_NEWLINK`, `IFF_UP`), using
//! safe socket calls: enough for the loopback device of a fresh network namespace.

use nix::errno::Errno;
use nix::sys::socket::{
    recv, sendto, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};
use std::os::fd::AsRawFd;

use super::{SysError, SysResult};

const RTM_NEWLINK: u16 = 16;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const IFF_UP: u32 = 1;
const AF_UNSPEC: u8 = 0;

/// The request bytes: `nlmsghdr` followed by `ifinfomsg` (native endianness).
fn request(index: u32, seq: u32) -> Vec<u8> {
    let mut msg = Vec::with_capacity(32);
    msg.extend_from_slice(&32u32.to_ne_bytes()); // nlmsg_len
    msg.extend_from_slice(&RTM_NEWLINK.to_ne_bytes()); // nlmsg_type
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes()); // nlmsg_flags
    msg.extend_from_slice(&seq.to_ne_bytes()); // nlmsg_seq
    msg.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: the kernel
    msg.push(AF_UNSPEC); // ifi_family
    msg.push(0); // padding
    msg.extend_from_slice(&0u16.to_ne_bytes()); // ifi_type
    msg.extend_from_slice(&index.to_ne_bytes()); // ifi_index
    msg.extend_from_slice(&IFF_UP.to_ne_bytes()); // ifi_flags
    msg.extend_from_slice(&IFF_UP.to_ne_bytes()); // ifi_change
    msg
}

/// The error code of an `NLMSG_ERROR` reply (0 is the acknowledgement).
fn reply_error(reply: &[u8]) -> Option<i32> {
    let kind = u16::from_ne_bytes(reply.get(4..6)?.try_into().ok()?);
    if kind != NLMSG_ERROR {
        return None;
    }
    Some(i32::from_ne_bytes(reply.get(16..20)?.try_into().ok()?))
}

/// Sets `IFF_UP` on the link with interface index `index` in the caller's network namespace.
pub fn link_up(index: u32) -> SysResult {
    let op = format!("set link {index} up (rtnetlink)");
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(|e| SysError::errno(&op, e))?;
    let kernel = NetlinkAddr::new(0, 0);
    sendto(
        fd.as_raw_fd(),
        &request(index, 1),
        &kernel,
        MsgFlags::empty(),
    )
    .map_err(|e| SysError::errno(&op, e))?;
    let mut buf = [0u8; 1024];
    let n =
        recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()).map_err(|e| SysError::errno(&op, e))?;
    match reply_error(&buf[..n]) {
        Some(0) => Ok(()),
        Some(code) => Err(SysError::errno(&op, Errno::from_raw(-code))),
        None => Err(SysError::errno(op, Errno::EPROTO)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn request_layout() {
        let r = request(1, 7);
        assert_eq!(r.len(), 32);
        assert_eq!(u32::from_ne_bytes(r[0..4].try_into().unwrap()), 32);
        assert_eq!(u16::from_ne_bytes(r[4..6].try_into().unwrap()), RTM_NEWLINK);
        assert_eq!(i32::from_ne_bytes(r[20..24].try_into().unwrap()), 1);
        assert_eq!(u32::from_ne_bytes(r[24..28].try_into().unwrap()), IFF_UP);
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
}
