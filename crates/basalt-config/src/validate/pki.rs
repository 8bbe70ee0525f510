//! Certificate/key checks and which node role may carry which CA key.

use super::Ctx;
use crate::decode::{push_index, push_key};
use crate::v1alpha1::{Base64Pem, CertAndKey, CertOnly, Config, MachineType};

/// PEM labels accepted for private keys (Talos writes the Ed25519 OS CA key as
/// `ED25519 PRIVATE KEY` and ECDSA keys as `EC PRIVATE KEY`).
pub const KEY_LABELS: &[&str] = &[
    "PRIVATE KEY",
    "EC PRIVATE KEY",
    "ED25519 PRIVATE KEY",
    "RSA PRIVATE KEY",
];

pub(super) fn check(c: &Config, ctx: &mut Ctx<'_>) {
    let m = &c.machine;
    let cl = &c.cluster;
    let etcd_ca = cl.etcd.as_ref().and_then(|e| e.ca.as_ref());
    let pairs: [(&str, Option<&CertAndKey>); 4] = [
        (".machine.ca", m.ca.as_ref()),
        (".cluster.ca", cl.ca.as_ref()),
        (".cluster.aggregatorCA", cl.aggregator_ca.as_ref()),
        (".cluster.etcd.ca", etcd_ca),
    ];
    for (base, pair) in pairs {
        let Some(pair) = pair else { continue };
        if let Some(crt) = pair.crt() {
            cert(crt, &format!("{base}.crt"), ctx);
        }
        if let Some(key) = pair.key() {
            private_key(key, &format!("{base}.key"), ctx);
        }
    }
    let sa_key = cl
        .service_account
        .as_ref()
        .and_then(|s| s.key.as_ref())
        .filter(|k| !k.is_empty());
    if let Some(key) = sa_key {
        private_key(key, ".cluster.serviceAccount.key", ctx);
    }
    accepted(m.accepted_cas.as_deref(), ".machine.acceptedCAs", ctx);
    accepted(cl.accepted_cas.as_deref(), ".cluster.acceptedCAs", ctx);
    registries(c, ctx);

    match c.machine_type() {
        Some(MachineType::ControlPlane) => {
            for (base, pair) in pairs {
                for (field, present) in [
                    ("crt", pair.and_then(CertAndKey::crt).is_some()),
                    ("key", pair.and_then(CertAndKey::key).is_some()),
                ] {
                    if !present {
                        ctx.error(&format!("{base}.{field}"), "is required on a control-plane node; take it from the cluster's secrets bundle (basaltctl gen secrets)");
                    }
                }
            }
            if sa_key.is_none() {
                ctx.error(".cluster.serviceAccount.key", "is required on a control-plane node; take it from the cluster's secrets bundle (basaltctl gen secrets)");
            }
        }
        Some(MachineType::Worker) => {
            let has_accepted = m.accepted_cas.as_ref().is_some_and(|a| !a.is_empty());
            if m.ca.as_ref().and_then(CertAndKey::crt).is_none() && !has_accepted {
                ctx.error(
                    ".machine.ca.crt",
                    "is required (or machine.acceptedCAs) so the node can trust API clients",
                );
            }
            for (base, pair) in pairs {
                if pair.and_then(CertAndKey::key).is_some() {
                    ctx.error(&format!("{base}.key"), "is a CA private key, which a worker must not carry; remove it (workers get certificates from trustd)");
                }
            }
            if sa_key.is_some() {
                ctx.error(
                    ".cluster.serviceAccount.key",
                    "is a signing key, which a worker must not carry; remove it",
                );
            }
        }
        None => {}
    }
    if cl.ca.as_ref().and_then(CertAndKey::crt).is_none() {
        ctx.error(
            ".cluster.ca.crt",
            "is required; the kubelet needs the Kubernetes CA certificate",
        );
    }
}

fn accepted(list: Option<&[CertOnly]>, base: &str, ctx: &mut Ctx<'_>) {
    for (i, ca) in list.into_iter().flatten().enumerate() {
        cert(&ca.crt, &format!("{}.crt", push_index(base, i)), ctx);
    }
}

fn registries(c: &Config, ctx: &mut Ctx<'_>) {
    let configs = c
        .machine
        .registries
        .as_ref()
        .and_then(|r| r.config.as_ref());
    for (host, rc) in configs.into_iter().flatten() {
        let Some(tls) = &rc.tls else { continue };
        let base = format!("{}.tls", push_key(".machine.registries.config", host));
        if let Some(ca) = tls.ca.as_ref().filter(|c| !c.is_empty()) {
            cert(ca, &format!("{base}.ca"), ctx);
        }
        if let Some(id) = &tls.client_identity {
            if let Some(crt) = id.crt() {
                cert(crt, &format!("{base}.clientIdentity.crt"), ctx);
            }
            if let Some(key) = id.key() {
                private_key(key, &format!("{base}.clientIdentity.key"), ctx);
            }
        }
    }
}

/// Checks that `value` is base64 of a PEM certificate that parses as X.509.
fn cert(value: &Base64Pem, path: &str, ctx: &mut Ctx<'_>) {
    let block = match value.pem() {
        Ok(b) => b,
        Err(e) => return ctx.error(path, e.to_string()),
    };
    if block.tag() != "CERTIFICATE" {
        return ctx.error(
            path,
            format!(
                "is a PEM {:?} block, not a certificate; expected \"CERTIFICATE\"",
                block.tag()
            ),
        );
    }
    match x509_parser::parse_x509_certificate(block.contents()) {
        Ok((_, parsed)) => {
            if !parsed.validity().is_valid() {
                ctx.warn(
                    path,
                    format!(
                        "certificate is not valid now (valid from {} to {}); rotate it",
                        parsed.validity().not_before,
                        parsed.validity().not_after
                    ),
                );
            }
        }
        Err(e) => ctx.error(
            path,
            format!("is not a valid X.509 certificate ({e}); use the base64 of a PEM certificate"),
        ),
    }
}

/// Checks that `value` is base64 of a PEM private key with an accepted label.
fn private_key(value: &Base64Pem, path: &str, ctx: &mut Ctx<'_>) {
    match value.pem() {
        Err(e) => ctx.error(path, e.to_string()),
        Ok(block) if !KEY_LABELS.contains(&block.tag()) => ctx.error(
            path,
            format!(
                "is a PEM {:?} block, not a private key; expected one of: {}",
                block.tag(),
                KEY_LABELS.join(", ")
            ),
        ),
        Ok(block) if block.contents().is_empty() => {
            ctx.error(path, "is an empty PEM block; paste the whole key")
        }
        Ok(_) => {}
    }
}
