#![allow(clippy::unwrap_used)]

use super::*;

const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

fn ack() -> Message {
    let mut m = Message::request(MessageType::Ack, 0xdead_beef, MAC);
    m.reply = true;
    m.broadcast = true;
    m.yiaddr = Ipv4Addr::new(10, 0, 2, 15);
    m.options = Options {
        message_type: Some(MessageType::Ack),
        server_id: Some(Ipv4Addr::new(10, 0, 2, 2)),
        lease_time: Some(86400),
        renewal_time: Some(43200),
        rebinding_time: Some(75600),
        subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
        routers: vec![Ipv4Addr::new(10, 0, 2, 2)],
        dns_servers: vec![Ipv4Addr::new(10, 0, 2, 3), Ipv4Addr::new(1, 1, 1, 1)],
        domain_name: Some("example.test".into()),
        hostname: Some("node-1".into()),
        parameter_request: vec![1, 3, 6, 15],
        client_id: Some(vec![1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]),
        max_message_size: Some(1500),
        message: Some("ok".into()),
        requested_ip: Some(Ipv4Addr::new(10, 0, 2, 15)),
    };
    m
}

#[test]
fn round_trip() {
    let m = ack();
    let bytes = m.encode();
    assert!(bytes.len() >= MIN_SENT && bytes.len() <= MAX_MESSAGE);
    assert_eq!(Message::decode(&bytes).unwrap(), m);
    let discover = Message::request(MessageType::Discover, 7, MAC);
    let bytes = discover.encode();
    assert_eq!(bytes.len(), MIN_SENT, "padded to the BOOTP minimum");
    assert_eq!(Message::decode(&bytes).unwrap(), discover);
}

#[test]
fn wire_layout() {
    let mut m = Message::request(MessageType::Discover, 0x0102_0304, MAC);
    m.broadcast = true;
    let b = m.encode();
    assert_eq!(&b[0..4], &[1, 1, 6, 0]);
    assert_eq!(&b[4..8], &[1, 2, 3, 4]);
    assert_eq!(&b[10..12], &[0x80, 0], "BROADCAST flag");
    assert_eq!(&b[28..34], &MAC);
    assert_eq!(&b[236..240], &MAGIC);
    assert_eq!(&b[240..243], &[53, 1, 1]);
    assert_eq!(b[243], OPT_END);
}

#[test]
fn long_options_are_split() {
    let mut m = ack();
    m.options.domain_name = Some("d".repeat(300));
    let b = m.encode();
    // decode keeps the last piece (RFC 3396 concatenation is not needed for what we read)
    let back = Message::decode(&b).unwrap();
    assert_eq!(back.options.domain_name.unwrap().len(), 45);
}

#[test]
fn truncated_and_oversized() {
    let b = ack().encode();
    assert_eq!(
        Message::decode(&b[..100]),
        Err(PacketError::Truncated { len: 100 })
    );
    assert_eq!(Message::decode(&[]), Err(PacketError::Truncated { len: 0 }));
    let big = vec![0u8; MAX_MESSAGE + 1];
    assert_eq!(
        Message::decode(&big),
        Err(PacketError::Oversized {
            len: MAX_MESSAGE + 1
        })
    );
}

#[test]
fn bad_header_fields() {
    let mut b = ack().encode();
    b[236] = 0;
    assert_eq!(Message::decode(&b), Err(PacketError::BadMagic));
    let mut b = ack().encode();
    b[0] = 3;
    assert_eq!(Message::decode(&b), Err(PacketError::BadOp(3)));
    let mut b = ack().encode();
    b[2] = 8;
    assert_eq!(
        Message::decode(&b),
        Err(PacketError::NotEthernet { htype: 1, hlen: 8 })
    );
}

fn with_options(opts: &[u8]) -> Vec<u8> {
    let mut b = Message::request(MessageType::Discover, 1, MAC).encode();
    b.truncate(240);
    b.extend_from_slice(opts);
    b
}

#[test]
fn option_overruns_and_bad_lengths() {
    assert_eq!(
        Message::decode(&with_options(&[51, 4, 0, 0])),
        Err(PacketError::OptionOverrun { code: 51, at: 240 })
    );
    assert_eq!(
        Message::decode(&with_options(&[0, 0, 3])),
        Err(PacketError::OptionOverrun { code: 3, at: 242 })
    );
    assert_eq!(
        Message::decode(&with_options(&[53, 1, 2])),
        Err(PacketError::MissingEnd)
    );
    assert_eq!(
        Message::decode(&with_options(&[53, 2, 2, 2, 255])),
        Err(PacketError::BadOptionLength { code: 53, len: 2 })
    );
    assert_eq!(
        Message::decode(&with_options(&[3, 5, 1, 2, 3, 4, 5, 255])),
        Err(PacketError::BadOptionLength { code: 3, len: 5 })
    );
    assert_eq!(
        Message::decode(&with_options(&[6, 0, 255])),
        Err(PacketError::BadOptionLength { code: 6, len: 0 })
    );
    assert_eq!(
        Message::decode(&with_options(&[53, 1, 99, 255])),
        Err(PacketError::BadMessageType(99))
    );
    // unknown options are skipped, pads are fine
    let m = Message::decode(&with_options(&[0, 0, 200, 3, 1, 2, 3, 53, 1, 2, 255])).unwrap();
    assert_eq!(m.options.message_type, Some(MessageType::Offer));
}

#[test]
fn netmask_prefix() {
    assert_eq!(prefix_len(Ipv4Addr::new(255, 255, 255, 0)), Some(24));
    assert_eq!(prefix_len(Ipv4Addr::new(255, 255, 255, 255)), Some(32));
    assert_eq!(prefix_len(Ipv4Addr::new(0, 0, 0, 0)), Some(0));
    assert_eq!(prefix_len(Ipv4Addr::new(255, 255, 240, 0)), Some(20));
    assert_eq!(prefix_len(Ipv4Addr::new(255, 0, 255, 0)), None);
}

/// xorshift64*: deterministic pseudo-random bytes for the fuzz-style test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn decode_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let valid = ack().encode();
    for i in 0..50_000 {
        let bytes: Vec<u8> = if i % 2 == 0 {
            // a valid message with a few bytes flipped, truncated or extended
            let mut b = valid.clone();
            for _ in 0..1 + rng.below(6) {
                let at = rng.below(b.len());
                b[at] = rng.next() as u8;
            }
            match rng.below(3) {
                0 => b.truncate(rng.below(b.len() + 1)),
                1 => b.extend((0..rng.below(1400)).map(|_| rng.next() as u8)),
                _ => {}
            }
            b
        } else {
            // random header-valid options
            let mut b = with_options(&[]);
            b.extend((0..rng.below(300)).map(|_| rng.next() as u8));
            b
        };
        if let Ok(m) = Message::decode(&bytes) {
            // anything accepted encodes and decodes again to the same message
            let again = Message::decode(&m.encode());
            if m.options.domain_name.as_ref().map_or(0, |d| d.len()) <= 255
                && m.options.hostname.as_ref().map_or(0, |d| d.len()) <= 255
            {
                assert!(again.is_ok(), "{m:?}");
            }
        }
    }
}
