//! Server certificate rotation at half-life without dropping connections.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use basalt_apid::certs;
use basalt_apid::tls::resolver::{spawn_rotation, RotatingResolver};
use basalt_apid::tls::server::{server_config, ClientAuth};
use support::*;

#[tokio::test]
async fn a_rotated_certificate_reaches_new_connections_while_old_ones_keep_working() {
    let ca = Arc::new(ca("basalt"));
    let lifetime = Duration::from_secs(4);
    let issue = {
        let ca = Arc::clone(&ca);
        move || {
            let issued = certs::issue_server_certificate(&ca, &localhost(), lifetime)?;
            let (cert, key) = certs::to_der(&issued, "server")?;
            certs::certified_key(cert, &key, "server")
        }
    };
    let resolver = RotatingResolver::new(issue().unwrap());
    spawn_rotation("server certificate", Arc::clone(&resolver), lifetime, issue);
    let auth = ClientAuth::Required {
        roots: vec![der_of(&ca)],
    };
    let addr = start(server_config(resolver, &auth).unwrap()).await;
    let config = || client_config(&[der_of(&ca)], Some(client(&ca, "os:admin")), false);

    let old = connect(addr, config()).await.unwrap();
    let old_serial = server_serial(&old);
    let mut old = h2(old).await;
    assert!(whoami(&mut old).await.starts_with("os:admin|"));

    // Poll with new connections until one sees a new certificate (rotation is due after ~2 s).
    let new_serial = tokio::time::timeout(TIMEOUT, async {
        loop {
            let tls = connect(addr, config()).await.unwrap();
            let serial = server_serial(&tls);
            if serial != old_serial {
                let mut h2 = h2(tls).await;
                assert!(whoami(&mut h2).await.starts_with("os:admin|"));
                return serial;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await
    .expect("no new server certificate within the timeout");
    assert_ne!(new_serial, old_serial);

    // The connection opened before the rotation still answers.
    assert!(whoami(&mut old).await.starts_with("os:admin|"));
}
