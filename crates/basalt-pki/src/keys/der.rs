//! A deliberately tiny DER reader and writer.
//!
//! It knows just enough (definite lengths up to 64 KiB, single-byte tags) to
//! re-wrap private keys between PKCS#8, SEC1 and the PKCS#8 v1 shape Go writes.
//! Anything it does not understand is an error, never a guess.

/// ASN.1 INTEGER.
pub(crate) const INTEGER: u8 = 0x02;
/// ASN.1 BIT STRING.
pub(crate) const BIT_STRING: u8 = 0x03;
/// ASN.1 OCTET STRING.
pub(crate) const OCTET_STRING: u8 = 0x04;
/// ASN.1 OBJECT IDENTIFIER.
pub(crate) const OID: u8 = 0x06;
/// ASN.1 SEQUENCE (constructed).
pub(crate) const SEQUENCE: u8 = 0x30;
/// Context-specific constructed tag `[0]`.
pub(crate) const CONTEXT_0: u8 = 0xa0;
/// Context-specific constructed tag `[1]`.
pub(crate) const CONTEXT_1: u8 = 0xa1;

/// One decoded tag-length-value element.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    /// The tag byte.
    pub tag: u8,
    /// The content octets.
    pub value: &'a [u8],
}

/// Reads consecutive DER elements from a byte slice.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Reader { rest: input }
    }

    /// True when every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next element, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads the next element, whatever its tag.
    pub fn next_tlv(&mut self) -> Result<Tlv<'a>, String> {
        let (&tag, after_tag) = self
            .rest
            .split_first()
            .ok_or_else(|| "unexpected end of DER data".to_string())?;
        let (&first_len, after_len) = after_tag
            .split_first()
            .ok_or_else(|| "DER element has no length".to_string())?;
        let (len, body) = match first_len {
            n if n < 0x80 => (usize::from(n), after_len),
            0x81 => read_long_length(after_len, 1)?,
            0x82 => read_long_length(after_len, 2)?,
            other => return Err(format!("unsupported DER length byte 0x{other:02x}")),
        };
        if body.len() < len {
            return Err("DER element is longer than the data".to_string());
        }
        let (value, rest) = body.split_at(len);
        self.rest = rest;
        Ok(Tlv { tag, value })
    }

    /// Reads the next element and checks that it has tag `tag`.
    pub fn expect(&mut self, tag: u8, what: &str) -> Result<&'a [u8], String> {
        let tlv = self.next_tlv().map_err(|e| format!("{what}: {e}"))?;
        if tlv.tag != tag {
            return Err(format!(
                "{what}: expected DER tag 0x{tag:02x}, found 0x{:02x}",
                tlv.tag
            ));
        }
        Ok(tlv.value)
    }
}

fn read_long_length(input: &[u8], bytes: usize) -> Result<(usize, &[u8]), String> {
    if input.len() < bytes {
        return Err("truncated DER length".to_string());
    }
    let (len_bytes, rest) = input.split_at(bytes);
    let len = len_bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Ok((len, rest))
}

/// Encodes one element with the given tag and content.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 4);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        // Keys are far below 64 KiB; larger content would be a programming error,
        // and the u16 conversion keeps the encoding well-formed regardless.
        let len = u16::try_from(len).unwrap_or(u16::MAX);
        out.push(0x82);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(content);
    out
}

/// Encodes a SEQUENCE of already-encoded elements.
pub(crate) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    encode(SEQUENCE, &parts.concat())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_short_and_long_lengths() {
        for len in [0usize, 1, 127, 128, 255, 256, 1000] {
            let content = vec![7u8; len];
            let encoded = encode(OCTET_STRING, &content);
            let mut reader = Reader::new(&encoded);
            let value = reader.expect(OCTET_STRING, "test").unwrap();
            assert_eq!(value, &content[..], "length {len}");
            assert!(reader.is_empty());
        }
    }

    #[test]
    fn rejects_truncated_and_mismatched_input() {
        assert!(Reader::new(&[0x04, 0x05, 1, 2]).next_tlv().is_err());
        assert!(Reader::new(&[0x04]).next_tlv().is_err());
        let err = Reader::new(&[0x02, 0x01, 0x00])
            .expect(OCTET_STRING, "field")
            .unwrap_err();
        assert!(err.contains("field"), "{err}");
    }

    #[test]
    fn sequence_wraps_parts() {
        let a = encode(INTEGER, &[1]);
        let b = encode(OID, &[0x2b, 0x65, 0x70]);
        let seq = sequence(&[&a, &b]);
        let mut outer = Reader::new(&seq);
        let mut inner = Reader::new(outer.expect(SEQUENCE, "seq").unwrap());
        assert_eq!(inner.expect(INTEGER, "int").unwrap(), &[1]);
        assert_eq!(inner.peek_tag(), Some(OID));
        assert_eq!(inner.expect(OID, "oid").unwrap(), &[0x2b, 0x65, 0x70]);
        assert!(inner.is_empty());
    }
}
