//! ApplyConfiguration against a real machine and its real API on a unix socket: every mode,
//! dry runs, invalid configs, the reboot-needed refusal, staged promotion and try rollback.
#![allow(clippy::unwrap_used)]

mod apply_support;

use std::time::Duration;

use apply_support::{
    controlplane_config, eventually, request, with_env, with_hostname, within, yaml, Machine,
};
use basalt_api::machine::apply_configuration_request::Mode;
use basalt_machined::sequencer::SequenceKind;
use tonic::Code;

#[tokio::test]
async fn invalid_config_is_refused_with_every_finding_and_changes_nothing() {
    let config = controlplane_config();
    let m = Machine::start(Some(&config)).await;
    let before = m.persisted();
    let bad = "version: v1alpha1\nmachine:\n  type: worker\n  token: ''\ncluster: {}\n";
    let err = m
        .client()
        .apply_configuration(request(bad.as_bytes(), Mode::Auto))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("line 4"), "{}", err.message());
    assert!(
        err.message().contains(".machine.token"),
        "{}",
        err.message()
    );
    assert!(
        err.message().matches("document 1").count() >= 2,
        "{}",
        err.message()
    );
    let undecodable = "version: v1alpha1\nmachine: {bogus: 1}\n";
    let err = m
        .client()
        .apply_configuration(request(undecodable.as_bytes(), Mode::NoReboot))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("bogus"), "{}", err.message());
    assert_eq!(m.persisted(), before);
    assert_eq!(m.handle.config(), Some(config));
    m.stop().await;
}

#[tokio::test]
async fn dry_run_shows_a_diff_and_the_mode_and_changes_nothing() {
    let config = controlplane_config();
    let m = Machine::start(Some(&config)).await;
    let before = m.persisted();
    let mut req = request(&yaml(&with_hostname(&config, "node-b")), Mode::Auto);
    req.dry_run = true;
    let reply = m
        .client()
        .apply_configuration(req)
        .await
        .unwrap()
        .into_inner();
    let msg = &reply.messages[0];
    assert_eq!(msg.mode, Mode::NoReboot as i32);
    assert!(msg.mode_details.contains("Dry run"), "{}", msg.mode_details);
    assert!(
        msg.mode_details.contains("--- current\n+++ new\n@@"),
        "{}",
        msg.mode_details
    );
    assert!(
        msg.mode_details.contains("+    hostname: node-b"),
        "{}",
        msg.mode_details
    );
    let mut req = request(&yaml(&with_env(&config, "A", "b")), Mode::Auto);
    req.dry_run = true;
    let reply = m
        .client()
        .apply_configuration(req)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.messages[0].mode, Mode::Reboot as i32);
    assert!(reply.messages[0].mode_details.contains(".machine.env"));
    assert_eq!(m.persisted(), before);
    assert_eq!(m.handle.config(), Some(config));
    m.stop().await;
}

#[tokio::test]
async fn no_reboot_applies_live_and_persists_but_refuses_fields_that_need_a_reboot() {
    let config = controlplane_config();
    let m = Machine::start(Some(&config)).await;
    let new = yaml(&with_hostname(&config, "node-b"));
    let reply = m
        .client()
        .apply_configuration(request(&new, Mode::NoReboot))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.messages[0].mode, Mode::NoReboot as i32);
    assert_eq!(m.persisted(), new);
    assert_eq!(m.live_hostname().as_deref(), Some("node-b"));
    assert_eq!(m.published_hostname().as_deref(), Some("node-b"));
    let hostname = m.client().hostname(()).await.unwrap().into_inner();
    assert_eq!(hostname.messages[0].hostname, "node-b");

    let err = m
        .client()
        .apply_configuration(request(&yaml(&with_env(&config, "A", "b")), Mode::NoReboot))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains(".machine.env"), "{}", err.message());
    assert_eq!(m.persisted(), new, "a refused apply changes nothing");
    m.stop().await;
}

#[tokio::test]
async fn auto_reboots_when_a_field_needs_it_and_the_reboot_loads_the_new_config() {
    let config = controlplane_config();
    let m = Machine::start(Some(&config)).await;
    let wanted = with_env(&config, "A", "b");
    let reply = m
        .client()
        .apply_configuration(request(&yaml(&wanted), Mode::Auto))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.messages[0].mode, Mode::Reboot as i32);
    assert!(reply.messages[0].mode_details.contains(".machine.env"));
    assert_eq!(m.persisted(), yaml(&wanted));
    eventually("the reboot to load the new config", || {
        m.handle.config() == Some(wanted.clone())
    })
    .await;
    within("the reboot to end", m.handle.sequencer().idle()).await;
    m.stop().await;
}

#[tokio::test]
async fn staged_config_waits_for_the_next_boot() {
    let config = controlplane_config();
    let m = Machine::start(Some(&config)).await;
    let before = m.persisted();
    let staged = yaml(&with_env(&config, "A", "b"));
    let reply = m
        .client()
        .apply_configuration(request(&staged, Mode::Staged))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.messages[0].mode, Mode::Staged as i32);
    assert!(reply.messages[0].mode_details.contains("next boot"));
    assert_eq!(m.persisted(), before);
    assert_eq!(
        std::fs::read(m.path("/system/state/config.staged.yaml")).unwrap(),
        staged
    );
    assert_eq!(m.handle.config(), Some(config.clone()));

    within("reboot", m.handle.sequencer().run(SequenceKind::Reboot))
        .await
        .unwrap();
    assert_eq!(m.persisted(), staged);
    assert!(!m.path("/system/state/config.staged.yaml").exists());
    assert_eq!(m.handle.config(), Some(with_env(&config, "A", "b")));
    m.stop().await;
}

#[tokio::test]
async fn try_applies_live_without_persisting_and_rolls_back_after_its_timeout() {
    let config = controlplane_config();
    let m = Machine::start(Some(&config)).await;
    let before = m.persisted();
    let mut req = request(&yaml(&with_hostname(&config, "trial")), Mode::Try);
    req.try_mode_timeout = Some(prost_types::Duration {
        seconds: 1,
        nanos: 0,
    });
    let reply = m
        .client()
        .apply_configuration(req)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.messages[0].mode, Mode::Try as i32);
    assert_eq!(m.live_hostname().as_deref(), Some("trial"));
    assert_eq!(m.persisted(), before, "try never persists");
    eventually("the rollback", || {
        m.live_hostname().as_deref() != Some("trial")
    })
    .await;
    assert_eq!(m.handle.config(), Some(config.clone()));
    assert_ne!(m.published_hostname().as_deref(), Some("trial"));

    // a try refuses what needs a reboot
    let err = m
        .client()
        .apply_configuration(request(&yaml(&with_env(&config, "A", "b")), Mode::Try))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    m.stop().await;
}

#[tokio::test]
async fn a_later_apply_confirms_a_try() {
    let config = controlplane_config();
    let m = Machine::start(Some(&config)).await;
    let trial = yaml(&with_hostname(&config, "trial"));
    let mut req = request(&trial, Mode::Try);
    req.try_mode_timeout = Some(prost_types::Duration {
        seconds: 1,
        nanos: 0,
    });
    m.client().apply_configuration(req).await.unwrap();
    let reply = m
        .client()
        .apply_configuration(request(&trial, Mode::NoReboot))
        .await
        .unwrap()
        .into_inner();
    assert!(
        reply.messages[0]
            .mode_details
            .contains("confirms the pending try"),
        "{}",
        reply.messages[0].mode_details
    );
    // well past the try timeout: still the confirmed config
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(m.live_hostname().as_deref(), Some("trial"));
    assert_eq!(m.persisted(), trial);
    m.stop().await;
}
