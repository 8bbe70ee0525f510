//! BOOTP/DHCPv4 messages (RFC 2131, options from RFC 2132), encoded and decoded by hand.
//! Input from the network is untrusted: every read is bounds checked, sizes are capped, and
//! malformed messages are errors (never panics).

use std::net::Ipv4Addr;

/// The port DHCP servers listen on.
pub const SERVER_PORT: u16 = 67;
/// The port DHCP clients listen on.
pub const CLIENT_PORT: u16 = 68;
/// The largest message accepted or sent (an Ethernet frame's IP payload).
pub const MAX_MESSAGE: usize = 1500;
/// The fixed BOOTP header before the magic cookie.
const FIXED: usize = 236;
/// `99.130.83.99`: marks the start of the DHCP options.
const MAGIC: [u8; 4] = [99, 130, 83, 99];
/// Classic BOOTP minimum message size; shorter requests are padded (some servers insist).
const MIN_SENT: usize = 300;
const BOOTREQUEST: u8 = 1;
const BOOTREPLY: u8 = 2;
const HTYPE_ETHER: u8 = 1;
/// The BROADCAST bit of `flags`: "answer by broadcast, I have no address yet".
const FLAG_BROADCAST: u16 = 0x8000;

const OPT_PAD: u8 = 0;
const OPT_SUBNET_MASK: u8 = 1;
const OPT_ROUTER: u8 = 3;
const OPT_DNS: u8 = 6;
const OPT_HOSTNAME: u8 = 12;
const OPT_DOMAIN_NAME: u8 = 15;
const OPT_REQUESTED_IP: u8 = 50;
const OPT_LEASE_TIME: u8 = 51;
const OPT_MESSAGE_TYPE: u8 = 53;
const OPT_SERVER_ID: u8 = 54;
const OPT_PARAMETER_REQUEST: u8 = 55;
const OPT_MESSAGE: u8 = 56;
const OPT_MAX_MESSAGE_SIZE: u8 = 57;
const OPT_RENEWAL_TIME: u8 = 58;
const OPT_REBINDING_TIME: u8 = 59;
const OPT_CLIENT_ID: u8 = 61;
const OPT_END: u8 = 255;

/// Why bytes are not a usable DHCP message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PacketError {
    /// Shorter than the fixed header plus magic cookie.
    #[error("DHCP message of {len} bytes is truncated (at least {} needed)", FIXED + 4)]
    Truncated {
        /// Bytes received.
        len: usize,
    },
    /// Larger than [`MAX_MESSAGE`].
    #[error("DHCP message of {len} bytes exceeds the {MAX_MESSAGE}-byte limit")]
    Oversized {
        /// Bytes received.
        len: usize,
    },
    /// `op` is neither BOOTREQUEST nor BOOTREPLY.
    #[error("BOOTP op {0} is neither request (1) nor reply (2)")]
    BadOp(u8),
    /// Not Ethernet (`htype` 1, `hlen` 6).
    #[error("hardware type {htype} / address length {hlen} is not Ethernet (1/6)")]
    NotEthernet {
        /// `htype`.
        htype: u8,
        /// `hlen`.
        hlen: u8,
    },
    /// No DHCP magic cookie after the BOOTP header.
    #[error("the DHCP magic cookie 99.130.83.99 is missing (plain BOOTP or garbage)")]
    BadMagic,
    /// An option's length runs past the end of the message.
    #[error("DHCP option {code} at offset {at} runs past the end of the message")]
    OptionOverrun {
        /// Option code.
        code: u8,
        /// Offset of the option code.
        at: usize,
    },
    /// A known option has a length it cannot have.
    #[error("DHCP option {code} has invalid length {len}")]
    BadOptionLength {
        /// Option code.
        code: u8,
        /// Its length byte.
        len: usize,
    },
    /// The options do not end with the END option (255).
    #[error("DHCP options do not end with the END option (255)")]
    MissingEnd,
    /// An unknown message type (option 53).
    #[error("unknown DHCP message type {0}")]
    BadMessageType(u8),
}

/// Option 53.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// Client looks for servers.
    Discover = 1,
    /// Server offers an address.
    Offer = 2,
    /// Client asks for (or renews) an address.
    Request = 3,
    /// Client refuses an address in use.
    Decline = 4,
    /// Server grants the lease.
    Ack = 5,
    /// Server refuses the request.
    Nak = 6,
    /// Client gives the address back.
    Release = 7,
    /// Client asks for configuration only.
    Inform = 8,
}

impl MessageType {
    fn from_u8(v: u8) -> Result<Self, PacketError> {
        Ok(match v {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            other => return Err(PacketError::BadMessageType(other)),
        })
    }
}

/// The options Basalt reads or writes; others are skipped on decode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// 53.
    pub message_type: Option<MessageType>,
    /// 54: the server's identifier (its address).
    pub server_id: Option<Ipv4Addr>,
    /// 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// 51, seconds.
    pub lease_time: Option<u32>,
    /// 58 (T1), seconds.
    pub renewal_time: Option<u32>,
    /// 59 (T2), seconds.
    pub rebinding_time: Option<u32>,
    /// 1.
    pub subnet_mask: Option<Ipv4Addr>,
    /// 3.
    pub routers: Vec<Ipv4Addr>,
    /// 6.
    pub dns_servers: Vec<Ipv4Addr>,
    /// 15.
    pub domain_name: Option<String>,
    /// 12.
    pub hostname: Option<String>,
    /// 55.
    pub parameter_request: Vec<u8>,
    /// 61.
    pub client_id: Option<Vec<u8>>,
    /// 57.
    pub max_message_size: Option<u16>,
    /// 56: a server's explanation (e.g. in a NAK).
    pub message: Option<String>,
}

/// One BOOTP/DHCP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// `true` for BOOTREPLY (server to client).
    pub reply: bool,
    /// Transaction id chosen by the client.
    pub xid: u32,
    /// Seconds since the client began.
    pub secs: u16,
    /// The BROADCAST flag.
    pub broadcast: bool,
    /// Client address (set when renewing/rebinding).
    pub ciaddr: Ipv4Addr,
    /// "Your" address: what the server gives.
    pub yiaddr: Ipv4Addr,
    /// Next server.
    pub siaddr: Ipv4Addr,
    /// Relay agent.
    pub giaddr: Ipv4Addr,
    /// Client hardware (MAC) address.
    pub chaddr: [u8; 6],
    /// DHCP options.
    pub options: Options,
}

impl Message {
    /// A client request of type `kind` from `mac` with transaction `xid`.
    pub fn request(kind: MessageType, xid: u32, mac: [u8; 6]) -> Self {
        Message {
            reply: false,
            xid,
            secs: 0,
            broadcast: false,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: mac,
            options: Options {
                message_type: Some(kind),
                ..Options::default()
            },
        }
    }

    /// The wire bytes (padded to 300 bytes, never more than [`MAX_MESSAGE`] for sane input).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(MIN_SENT);
        b.push(if self.reply { BOOTREPLY } else { BOOTREQUEST });
        b.extend_from_slice(&[HTYPE_ETHER, 6, 0]);
        b.extend_from_slice(&self.xid.to_be_bytes());
        b.extend_from_slice(&self.secs.to_be_bytes());
        let flags = if self.broadcast { FLAG_BROADCAST } else { 0 };
        b.extend_from_slice(&flags.to_be_bytes());
        for a in [self.ciaddr, self.yiaddr, self.siaddr, self.giaddr] {
            b.extend_from_slice(&a.octets());
        }
        b.extend_from_slice(&self.chaddr);
        b.resize(FIXED, 0); // rest of chaddr, sname, file
        b.extend_from_slice(&MAGIC);
        encode_options(&self.options, &mut b);
        b.push(OPT_END);
        if b.len() < MIN_SENT {
            b.resize(MIN_SENT, OPT_PAD);
        }
        b
    }

    /// Parses `bytes` strictly (see [`PacketError`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, PacketError> {
        if bytes.len() > MAX_MESSAGE {
            return Err(PacketError::Oversized { len: bytes.len() });
        }
        if bytes.len() < FIXED + MAGIC.len() {
            return Err(PacketError::Truncated { len: bytes.len() });
        }
        let reply = match bytes[0] {
            BOOTREQUEST => false,
            BOOTREPLY => true,
            other => return Err(PacketError::BadOp(other)),
        };
        if bytes[1] != HTYPE_ETHER || bytes[2] != 6 {
            return Err(PacketError::NotEthernet {
                htype: bytes[1],
                hlen: bytes[2],
            });
        }
        if bytes[FIXED..FIXED + 4] != MAGIC {
            return Err(PacketError::BadMagic);
        }
        let ip = |at: usize| Ipv4Addr::new(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
        let mut chaddr = [0u8; 6];
        chaddr.copy_from_slice(&bytes[28..34]);
        Ok(Message {
            reply,
            xid: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            secs: u16::from_be_bytes([bytes[8], bytes[9]]),
            broadcast: u16::from_be_bytes([bytes[10], bytes[11]]) & FLAG_BROADCAST != 0,
            ciaddr: ip(12),
            yiaddr: ip(16),
            siaddr: ip(20),
            giaddr: ip(24),
            chaddr,
            options: decode_options(&bytes[FIXED + 4..])?,
        })
    }
}

fn put(b: &mut Vec<u8>, code: u8, data: &[u8]) {
    // Options longer than 255 bytes are split into several of the same code (RFC 3396).
    for chunk in data.chunks(255) {
        b.push(code);
        b.push(u8::try_from(chunk.len()).unwrap_or(u8::MAX));
        b.extend_from_slice(chunk);
    }
}

fn put_ips(b: &mut Vec<u8>, code: u8, ips: &[Ipv4Addr]) {
    if !ips.is_empty() {
        let data: Vec<u8> = ips.iter().flat_map(|a| a.octets()).collect();
        put(b, code, &data);
    }
}

fn encode_options(o: &Options, b: &mut Vec<u8>) {
    if let Some(t) = o.message_type {
        put(b, OPT_MESSAGE_TYPE, &[t as u8]);
    }
    if let Some(id) = &o.client_id {
        put(b, OPT_CLIENT_ID, id);
    }
    if let Some(ip) = o.requested_ip {
        put(b, OPT_REQUESTED_IP, &ip.octets());
    }
    if let Some(ip) = o.server_id {
        put(b, OPT_SERVER_ID, &ip.octets());
    }
    if let Some(size) = o.max_message_size {
        put(b, OPT_MAX_MESSAGE_SIZE, &size.to_be_bytes());
    }
    if let Some(h) = &o.hostname {
        put(b, OPT_HOSTNAME, h.as_bytes());
    }
    if !o.parameter_request.is_empty() {
        put(b, OPT_PARAMETER_REQUEST, &o.parameter_request);
    }
    if let Some(m) = o.subnet_mask {
        put(b, OPT_SUBNET_MASK, &m.octets());
    }
    put_ips(b, OPT_ROUTER, &o.routers);
    put_ips(b, OPT_DNS, &o.dns_servers);
    if let Some(d) = &o.domain_name {
        put(b, OPT_DOMAIN_NAME, d.as_bytes());
    }
    for (code, v) in [
        (OPT_LEASE_TIME, o.lease_time),
        (OPT_RENEWAL_TIME, o.renewal_time),
        (OPT_REBINDING_TIME, o.rebinding_time),
    ] {
        if let Some(v) = v {
            put(b, code, &v.to_be_bytes());
        }
    }
    if let Some(m) = &o.message {
        put(b, OPT_MESSAGE, m.as_bytes());
    }
}

fn exact<const N: usize>(code: u8, data: &[u8]) -> Result<[u8; N], PacketError> {
    data.try_into().map_err(|_| PacketError::BadOptionLength {
        code,
        len: data.len(),
    })
}

fn ips(code: u8, data: &[u8]) -> Result<Vec<Ipv4Addr>, PacketError> {
    if data.is_empty() || data.len() % 4 != 0 {
        return Err(PacketError::BadOptionLength {
            code,
            len: data.len(),
        });
    }
    Ok(data
        .chunks_exact(4)
        .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
        .collect())
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data)
        .trim_end_matches('\0')
        .to_string()
}

fn decode_options(b: &[u8]) -> Result<Options, PacketError> {
    let mut o = Options::default();
    let mut at = 0;
    loop {
        let Some(&code) = b.get(at) else {
            return Err(PacketError::MissingEnd);
        };
        match code {
            OPT_PAD => {
                at += 1;
                continue;
            }
            OPT_END => return Ok(o),
            _ => {}
        }
        let len = usize::from(*b.get(at + 1).ok_or(PacketError::OptionOverrun {
            code,
            at: FIXED + 4 + at,
        })?);
        let data = b
            .get(at + 2..at + 2 + len)
            .ok_or(PacketError::OptionOverrun {
                code,
                at: FIXED + 4 + at,
            })?;
        let ip = |d: &[u8]| exact::<4>(code, d).map(Ipv4Addr::from);
        let u32_of = |d: &[u8]| exact::<4>(code, d).map(u32::from_be_bytes);
        match code {
            OPT_MESSAGE_TYPE => {
                o.message_type = Some(MessageType::from_u8(exact::<1>(code, data)?[0])?)
            }
            OPT_SERVER_ID => o.server_id = Some(ip(data)?),
            OPT_REQUESTED_IP => o.requested_ip = Some(ip(data)?),
            OPT_SUBNET_MASK => o.subnet_mask = Some(ip(data)?),
            OPT_LEASE_TIME => o.lease_time = Some(u32_of(data)?),
            OPT_RENEWAL_TIME => o.renewal_time = Some(u32_of(data)?),
            OPT_REBINDING_TIME => o.rebinding_time = Some(u32_of(data)?),
            OPT_ROUTER => o.routers = ips(code, data)?,
            OPT_DNS => o.dns_servers = ips(code, data)?,
            OPT_DOMAIN_NAME => o.domain_name = Some(text(data)),
            OPT_HOSTNAME => o.hostname = Some(text(data)),
            OPT_MESSAGE => o.message = Some(text(data)),
            OPT_PARAMETER_REQUEST => o.parameter_request = data.to_vec(),
            OPT_CLIENT_ID => o.client_id = Some(data.to_vec()),
            OPT_MAX_MESSAGE_SIZE => {
                o.max_message_size = Some(u16::from_be_bytes(exact::<2>(code, data)?))
            }
            _ => {}
        }
        at += 2 + len;
    }
}

/// The prefix length of a contiguous netmask (`255.255.255.0` → 24); `None` otherwise.
pub fn prefix_len(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let ones = m.leading_ones();
    (m.checked_shl(ones).unwrap_or(0) == 0).then(|| u8::try_from(ones).unwrap_or(32))
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
