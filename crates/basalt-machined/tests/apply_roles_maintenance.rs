//! The `x-basalt-roles` header decides the caller on machined's socket; ApplyConfiguration
//! and GenerateClientConfiguration are admin-only (except the first config in maintenance
//! mode), and a config applied in maintenance mode lets the waiting boot continue.
#![allow(clippy::unwrap_used)]

mod apply_support;

use apply_support::{
    controlplane_config, eventually, request, with_hostname, within, yaml, Machine,
};
use basalt_api::machine as m;
use basalt_api::machine::apply_configuration_request::Mode;
use basalt_machined::sequencer::SequenceKind;
use tonic::Code;

fn with_roles<T>(message: T, roles: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut()
        .insert("x-basalt-roles", roles.parse().unwrap());
    req
}

fn client_config_request(roles: &[&str]) -> m::GenerateClientConfigurationRequest {
    m::GenerateClientConfigurationRequest {
        roles: roles.iter().map(|r| r.to_string()).collect(),
        crt_ttl: Some(prost_types::Duration {
            seconds: 3600,
            nanos: 0,
        }),
    }
}

#[tokio::test]
async fn roles_header_decides_who_may_apply_and_issue() {
    let config = controlplane_config();
    let m = Machine::start(Some(&config)).await;
    let new = yaml(&with_hostname(&config, "node-b"));
    for roles in ["os:reader", "os:operator,os:reader", "", "os:unknown"] {
        let err = m
            .client()
            .apply_configuration(with_roles(request(&new, Mode::Auto), roles))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{roles:?}");
        assert!(err.message().contains("os:admin"), "{}", err.message());
        let err = m
            .client()
            .generate_client_configuration(with_roles(client_config_request(&["os:reader"]), roles))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{roles:?}");
    }
    // readers still read
    m.client()
        .version(with_roles((), "os:reader"))
        .await
        .unwrap();
    let reply = m
        .client()
        .apply_configuration(with_roles(request(&new, Mode::Auto), "os:reader,os:admin"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.messages[0].mode, Mode::NoReboot as i32);
    m.stop().await;
}

#[tokio::test]
async fn generate_client_configuration_issues_a_certificate_from_the_os_ca() {
    let config = controlplane_config();
    let m = Machine::start(Some(&config)).await;
    let reply = m
        .client()
        .generate_client_configuration(with_roles(
            client_config_request(&["os:operator"]),
            "os:admin",
        ))
        .await
        .unwrap()
        .into_inner();
    let one = &reply.messages[0];
    let crt = String::from_utf8(one.crt.clone()).unwrap();
    let info = basalt_pki::CertificateInfo::from_pem(&crt).unwrap();
    assert_eq!(info.organizations, ["os:operator"]);
    let ca_pem = config
        .v1alpha1()
        .unwrap()
        .machine
        .ca
        .as_ref()
        .unwrap()
        .crt()
        .unwrap();
    assert_eq!(one.ca, ca_pem.decode().unwrap());
    assert!(String::from_utf8(one.key.clone())
        .unwrap()
        .contains("PRIVATE KEY"));
    let client = basalt_client_config::ClientConfig::from_yaml(
        std::str::from_utf8(&one.talosconfig).unwrap(),
    )
    .unwrap();
    let ctx = client.context("demo").unwrap();
    assert_eq!(ctx.endpoints, ["10.5.0.2"]);
    assert_eq!(ctx.crt.as_ref().unwrap().as_bytes(), one.crt.as_slice());

    let err = m
        .client()
        .generate_client_configuration(client_config_request(&["os:root"]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("os:reader"), "{}", err.message());
    m.stop().await;
}

#[tokio::test]
async fn maintenance_mode_waits_for_an_apply_then_boots_with_it() {
    let config = controlplane_config();
    let m = Machine::start(None).await;
    let seq = m.handle.sequencer().clone();
    let init = tokio::spawn(async move { seq.run(SequenceKind::Initialize).await });
    eventually("maintenance mode", || m.handle.state().inbox().is_waiting()).await;
    // no config yet: the first apply needs no admin role (apid guards maintenance mode)
    let err = m
        .client()
        .apply_configuration(with_roles(request(&yaml(&config), Mode::Staged), ""))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());
    let err = m
        .client()
        .apply_configuration(with_roles(request(b"version: v1alpha1\n", Mode::Auto), ""))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let reply = m
        .client()
        .apply_configuration(with_roles(request(&yaml(&config), Mode::Auto), ""))
        .await
        .unwrap()
        .into_inner();
    assert!(
        reply.messages[0].mode_details.contains("boot continues"),
        "{}",
        reply.messages[0].mode_details
    );
    within("initialize", init).await.unwrap().unwrap();
    assert_eq!(m.handle.config(), Some(config.clone()));
    assert_eq!(m.persisted(), yaml(&config));
    within("boot", m.handle.sequencer().run(SequenceKind::Boot))
        .await
        .unwrap();
    m.stop().await;
}
