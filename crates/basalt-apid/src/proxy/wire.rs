//! The few protobuf wire-format operations the proxy needs to tag and merge replies
//! without knowing their message types.
//!
//! Every Talos reply follows one of two shapes:
//! - unary replies: field 1 is a repeated per-node message whose own field 1 is
//!   `common.Metadata { hostname = 1, error = 2, status = 3 }`;
//! - streamed messages (`common.Data`, `machine.Event`): field 1 is the metadata itself.
//!
//! Protobuf merge semantics make tagging cheap: appending another encoding of field 1 to a
//! message merges it into the field already there, so a reply is tagged by appending
//! `Metadata { hostname }` to it.

use bytes::{BufMut, Bytes, BytesMut};

/// Wire type of varints.
const VARINT: u8 = 0;
/// Wire type of 64-bit fixed values.
const FIXED64: u8 = 1;
/// Wire type of length-delimited values (strings, bytes, messages).
const LEN: u8 = 2;
/// Wire type of 32-bit fixed values.
const FIXED32: u8 = 5;

/// A message that is not valid protobuf wire format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed protobuf message at byte {offset}: {reason}")]
pub struct WireError {
    /// Where in the message the problem is.
    pub offset: usize,
    /// What is wrong.
    pub reason: &'static str,
}

/// One field of a message: its number, wire type and the raw bytes of its value (for
/// length-delimited fields: the payload without the length prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field number.
    pub number: u64,
    /// The wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
    pub wire_type: u8,
    /// The value's bytes (varints: their encoding; LEN: the payload).
    pub value: &'a [u8],
    /// The whole field as encoded (key, length prefix and value).
    pub raw: &'a [u8],
}

/// Appends `value` as a varint.
pub fn put_varint(out: &mut BytesMut, mut value: u64) {
    while value >= 0x80 {
        out.put_u8((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.put_u8(value as u8);
}

/// Reads a varint at `*pos`, advancing it.
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let start = *pos;
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos).ok_or(WireError {
            offset: start,
            reason: "truncated varint",
        })?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(WireError {
        offset: start,
        reason: "varint longer than 10 bytes",
    })
}

/// Appends a length-delimited field `number` with payload `payload`.
pub fn put_len_field(out: &mut BytesMut, number: u64, payload: &[u8]) {
    put_varint(out, (number << 3) | u64::from(LEN));
    put_varint(out, payload.len() as u64);
    out.put_slice(payload);
}

/// Appends a varint field `number` with `value`.
pub fn put_varint_field(out: &mut BytesMut, number: u64, value: u64) {
    put_varint(out, number << 3);
    put_varint(out, value);
}

/// Splits `msg` into its fields, in order.
pub fn fields(msg: &[u8]) -> Result<Vec<Field<'_>>, WireError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < msg.len() {
        let start = pos;
        let key = read_varint(msg, &mut pos)?;
        let number = key >> 3;
        let wire_type = (key & 7) as u8;
        if number == 0 {
            return Err(WireError {
                offset: start,
                reason: "field number 0",
            });
        }
        let value_start;
        match wire_type {
            VARINT => {
                value_start = pos;
                read_varint(msg, &mut pos)?;
            }
            FIXED64 | FIXED32 => {
                value_start = pos;
                pos += if wire_type == FIXED64 { 8 } else { 4 };
            }
            LEN => {
                let len = read_varint(msg, &mut pos)?;
                value_start = pos;
                pos = usize::try_from(len)
                    .ok()
                    .and_then(|len| pos.checked_add(len))
                    .unwrap_or(usize::MAX);
            }
            _ => {
                return Err(WireError {
                    offset: start,
                    reason: "unsupported wire type (groups are not used by this API)",
                })
            }
        }
        if pos > msg.len() {
            return Err(WireError {
                offset: start,
                reason: "field runs past the end of the message",
            });
        }
        out.push(Field {
            number,
            wire_type,
            value: &msg[value_start..pos],
            raw: &msg[start..pos],
        });
    }
    Ok(out)
}

/// The `common.Metadata.hostname` carried in `msg`'s field 1 (merged: the last
/// non-empty occurrence wins); empty when there is none.
pub fn metadata_hostname(msg: &[u8]) -> Result<String, WireError> {
    let mut hostname = String::new();
    for meta in fields(msg)?
        .iter()
        .filter(|f| f.number == 1 && f.wire_type == LEN)
    {
        for field in fields(meta.value)? {
            if field.number == 1 && field.wire_type == LEN {
                hostname = String::from_utf8_lossy(field.value).into_owned();
            }
        }
    }
    Ok(hostname)
}

/// An encoded `common.Metadata { hostname, error, status: google.rpc.Status { code,
/// message } }`; empty fields are left out.
pub fn metadata(hostname: &str, error: Option<(i32, &str)>) -> BytesMut {
    let mut out = BytesMut::new();
    if !hostname.is_empty() {
        put_len_field(&mut out, 1, hostname.as_bytes());
    }
    if let Some((code, message)) = error {
        put_len_field(&mut out, 2, message.as_bytes());
        let mut status = BytesMut::new();
        if code != 0 {
            // int32 is encoded as a sign-extended varint.
            put_varint_field(&mut status, 1, i64::from(code) as u64);
        }
        if !message.is_empty() {
            put_len_field(&mut status, 2, message.as_bytes());
        }
        put_len_field(&mut out, 3, &status);
    }
    out
}

/// A message whose only field is the metadata (field 1): a streamed error entry, or the
/// per-node entry of a unary error reply.
pub fn metadata_message(hostname: &str, error: Option<(i32, &str)>) -> BytesMut {
    let mut out = BytesMut::new();
    put_len_field(&mut out, 1, &metadata(hostname, error));
    out
}

/// Makes sure a message with metadata in field 1 names a host: when its metadata carries
/// no hostname, `Metadata { hostname: target }` is appended (protobuf merge).
pub fn tag_message(msg: Bytes, target: &str) -> Result<Bytes, WireError> {
    if !metadata_hostname(&msg)?.is_empty() {
        return Ok(msg);
    }
    let mut out = BytesMut::from(&msg[..]);
    put_len_field(&mut out, 1, &metadata(target, None));
    Ok(out.freeze())
}

/// Tags every per-node entry (field 1) of a unary reply with [`tag_message`]; other fields
/// are kept as they are.
pub fn tag_reply(reply: &[u8], target: &str) -> Result<Bytes, WireError> {
    let mut out = BytesMut::with_capacity(reply.len() + 16);
    for field in fields(reply)? {
        if field.number == 1 && field.wire_type == LEN {
            let entry = tag_message(Bytes::copy_from_slice(field.value), target)?;
            put_len_field(&mut out, 1, &entry);
        } else {
            out.put_slice(field.raw);
        }
    }
    Ok(out.freeze())
}

/// A unary reply for a node that failed: one entry holding only its metadata.
pub fn error_reply(target: &str, code: i32, message: &str) -> Bytes {
    let mut out = BytesMut::new();
    put_len_field(
        &mut out,
        1,
        &metadata_message(target, Some((code, message))),
    );
    out.freeze()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use basalt_api::common::{Data, DataResponse, Empty, EmptyResponse, Metadata};
    use prost::Message as _;

    fn meta(hostname: &str) -> Option<Metadata> {
        Some(Metadata {
            hostname: hostname.into(),
            ..Default::default()
        })
    }

    #[test]
    fn varints_round_trip_at_every_length() {
        for value in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut buf = BytesMut::new();
            put_varint(&mut buf, value);
            let mut expected = Vec::new();
            prost::encoding::encode_varint(value, &mut expected);
            assert_eq!(&buf[..], &expected[..], "{value}");
            let mut pos = 0;
            assert_eq!(read_varint(&buf, &mut pos).unwrap(), value);
            assert_eq!(pos, buf.len());
        }
    }

    #[test]
    fn truncated_and_overlong_input_is_an_error_not_a_panic() {
        let mut pos = 0;
        assert!(read_varint(&[0x80, 0x80], &mut pos).is_err());
        let mut pos = 0;
        assert!(read_varint(&[0xff; 11], &mut pos).is_err());
        // Field 1, LEN, length 5 but only 2 bytes follow.
        assert!(fields(&[0x0a, 0x05, 1, 2]).is_err());
        // Wire type 3 (group start).
        assert!(fields(&[0x0b]).is_err());
        // Field number 0.
        assert!(fields(&[0x00, 0x01]).is_err());
        // Huge length.
        assert!(fields(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).is_err());
        assert!(tag_reply(&[0x0a, 0x05, 1], "x").is_err());
    }

    #[test]
    fn fields_walk_every_wire_type() {
        let msg = Data {
            metadata: meta("a"),
            bytes: b"xyz".to_vec(),
        }
        .encode_to_vec();
        let mut with_scalars = BytesMut::from(&msg[..]);
        put_varint_field(&mut with_scalars, 7, 300);
        with_scalars.put_slice(&[(8 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8]);
        with_scalars.put_slice(&[(9 << 3) | 5, 1, 2, 3, 4]);
        let fs = fields(&with_scalars).unwrap();
        let numbers: Vec<_> = fs.iter().map(|f| (f.number, f.wire_type)).collect();
        assert_eq!(numbers, vec![(1, 2), (2, 2), (7, 0), (8, 1), (9, 5)]);
        assert_eq!(fs[1].value, b"xyz");
        let total: usize = fs.iter().map(|f| f.raw.len()).sum();
        assert_eq!(total, with_scalars.len());
    }

    #[test]
    fn a_stream_message_without_hostname_gets_the_target() {
        let untagged = Data {
            metadata: None,
            bytes: b"line".to_vec(),
        }
        .encode_to_vec();
        let tagged = tag_message(Bytes::from(untagged), "10.5.0.3").unwrap();
        let decoded = Data::decode(tagged).unwrap();
        assert_eq!(decoded.metadata, meta("10.5.0.3"));
        assert_eq!(decoded.bytes, b"line");
    }

    #[test]
    fn a_hostname_the_node_set_is_kept() {
        let msg = Bytes::from(
            Data {
                metadata: meta("node-b"),
                bytes: b"line".to_vec(),
            }
            .encode_to_vec(),
        );
        assert_eq!(tag_message(msg.clone(), "10.5.0.3").unwrap(), msg);
    }

    #[test]
    fn unary_replies_concatenate_into_one_repeated_field_with_each_entry_tagged() {
        let a = EmptyResponse {
            messages: vec![Empty {
                metadata: meta("node-a"),
            }],
        }
        .encode_to_vec();
        let b = EmptyResponse {
            messages: vec![Empty { metadata: None }],
        }
        .encode_to_vec();
        let mut merged = BytesMut::new();
        merged.put_slice(&tag_reply(&a, "10.0.0.1").unwrap());
        merged.put_slice(&tag_reply(&b, "10.0.0.2").unwrap());
        merged.put_slice(&error_reply("10.0.0.3", 14, "connection refused"));
        let reply = EmptyResponse::decode(merged.freeze()).unwrap();
        let hosts: Vec<_> = reply
            .messages
            .iter()
            .map(|m| m.metadata.clone().unwrap())
            .collect();
        assert_eq!(hosts[0].hostname, "node-a");
        assert_eq!(hosts[1].hostname, "10.0.0.2");
        assert_eq!(hosts[2].hostname, "10.0.0.3");
        assert_eq!(hosts[2].error, "connection refused");
        let status = hosts[2].status.clone().unwrap();
        assert_eq!(
            (status.code, status.message.as_str()),
            (14, "connection refused")
        );
    }

    #[test]
    fn other_top_level_fields_survive_tagging() {
        let reply = DataResponse {
            messages: vec![Data {
                metadata: None,
                bytes: vec![1, 2, 3],
            }],
        }
        .encode_to_vec();
        let mut with_extra = BytesMut::from(&reply[..]);
        put_varint_field(&mut with_extra, 5, 42);
        let tagged = tag_reply(&with_extra, "n").unwrap();
        assert!(tagged.ends_with(&[5 << 3, 42]));
        let decoded = DataResponse::decode(tagged).unwrap();
        assert_eq!(decoded.messages[0].metadata, meta("n"));
        assert_eq!(decoded.messages[0].bytes, vec![1, 2, 3]);
    }

    #[test]
    fn error_stream_message_decodes_as_data_with_error_metadata() {
        let msg = metadata_message("node-c", Some((14, "down")));
        let data = Data::decode(msg.freeze()).unwrap();
        let m = data.metadata.unwrap();
        assert_eq!((m.hostname.as_str(), m.error.as_str()), ("node-c", "down"));
        assert!(data.bytes.is_empty());
    }
}
