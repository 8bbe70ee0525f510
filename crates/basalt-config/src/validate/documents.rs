//! Checks of the companion documents.

use super::checks;
use super::Ctx;
use crate::decode::push_index;
use crate::document::Document;
use crate::kinds::PortRange;

const PROTOCOLS: &[&str] = &["tcp", "udp", "icmp", "icmpv6"];

pub(super) fn check(doc: &Document, ctx: &mut Ctx<'_>) {
    match doc {
        Document::V1Alpha1(_) => {}
        Document::TrustedRoots(t) => {
            if t.name.is_empty() {
                ctx.error(".name", "is required; name this bundle of trusted roots");
            }
            let parsed = pem::parse_many(t.certificates.as_bytes());
            if !matches!(&parsed, Ok(blocks) if !blocks.is_empty() && blocks.iter().all(|b| b.tag() == "CERTIFICATE"))
            {
                ctx.error(
                    ".certificates",
                    "must hold one or more PEM certificates (-----BEGIN CERTIFICATE----- ...)",
                );
            }
        }
        Document::KmsgLog(k) => {
            if k.name.is_empty() {
                ctx.error(".name", "is required");
            }
            let ok = url::Url::parse(&k.url)
                .is_ok_and(|u| matches!(u.scheme(), "tcp" | "udp") && u.port().is_some());
            if !ok {
                ctx.error(
                    ".url",
                    format!(
                        "{:?} is not a log endpoint; use tcp://host:port or udp://host:port",
                        k.url
                    ),
                );
            }
        }
        Document::NetworkDefaultAction(d) => {
            if d.ingress != "accept" && d.ingress != "block" {
                ctx.error(
                    ".ingress",
                    format!(
                        "{:?} is not a default action; use \"accept\" or \"block\"",
                        d.ingress
                    ),
                );
            }
        }
        Document::NetworkRule(r) => {
            if r.name.is_empty() {
                ctx.error(".name", "is required");
            }
            if !PROTOCOLS.contains(&r.port_selector.protocol.as_str()) {
                ctx.error(
                    ".portSelector.protocol",
                    format!(
                        "{:?} is not a protocol; use one of: {}",
                        r.port_selector.protocol,
                        PROTOCOLS.join(", ")
                    ),
                );
            }
            for (i, p) in r.port_selector.ports.iter().enumerate() {
                if let PortRange::Range(text) = p {
                    let ok = text.split_once('-').is_some_and(|(lo, hi)| {
                        matches!((lo.parse::<u16>(), hi.parse::<u16>()), (Ok(l), Ok(h)) if l <= h)
                    });
                    if !ok {
                        ctx.error(
                            &push_index(".portSelector.ports", i),
                            format!("{text:?} is not a port or range; use e.g. 443 or 30000-32767"),
                        );
                    }
                }
            }
            for (i, rule) in r.ingress.iter().enumerate() {
                let base = push_index(".ingress", i);
                if checks::cidr(&rule.subnet).is_none() {
                    ctx.error(
                        &format!("{base}.subnet"),
                        format!("{:?} is not a CIDR", rule.subnet),
                    );
                }
                if let Some(e) = rule.except.as_deref().filter(|e| checks::cidr(e).is_none()) {
                    ctx.error(&format!("{base}.except"), format!("{e:?} is not a CIDR"));
                }
            }
        }
    }
}
