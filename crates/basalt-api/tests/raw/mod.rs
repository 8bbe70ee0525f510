//! A minimal reader of encoded protobuf, to check field numbers on the wire.
#![allow(clippy::unwrap_used, dead_code)]

/// Wire type of varint fields (ints, bools, enums).
pub const VARINT: u8 = 0;
/// Wire type of length-delimited fields (strings, bytes, messages).
pub const LEN: u8 = 2;

/// Reads a base-128 varint at `pos`, returning it and the position after it.
fn varint(buf: &[u8], mut pos: usize) -> (u64, usize) {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = buf[pos];
        pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
    }
    (value, pos)
}

/// The top-level fields of an encoded message: (field number, wire type, payload
/// bytes for length-delimited fields or the varint value as bytes otherwise).
pub fn fields(buf: &[u8]) -> Vec<(u32, u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let (key, next) = varint(buf, pos);
        let (number, wire) = (u32::try_from(key >> 3).unwrap(), (key & 7) as u8);
        pos = next;
        match wire {
            VARINT => {
                let (value, next) = varint(buf, pos);
                out.push((number, wire, value.to_le_bytes().to_vec()));
                pos = next;
            }
            LEN => {
                let (len, next) = varint(buf, pos);
                let end = next + usize::try_from(len).unwrap();
                out.push((number, wire, buf[next..end].to_vec()));
                pos = end;
            }
            other => panic!("unexpected wire type {other}"),
        }
    }
    out
}

/// Field numbers and wire types only.
pub fn layout(buf: &[u8]) -> Vec<(u32, u8)> {
    fields(buf).into_iter().map(|(n, w, _)| (n, w)).collect()
}

/// The payload of the first field with this number.
pub fn payload(buf: &[u8], number: u32) -> Vec<u8> {
    fields(buf)
        .into_iter()
        .find(|(n, _, _)| *n == number)
        .unwrap()
        .2
}
