//! As root, with a real `basalt launch`: machined dies between writing the temporary config
//! file and renaming it (failpoint `BASALT_FAILPOINT=apply-after-temp-write`, a test
//! facility), and the node still boots with the old config, complete and loadable.
#![allow(clippy::unwrap_used)]

mod launch_support;

use basalt_api::machine as m;
use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::transport::connect_unix;
use launch_support::{build_node, config_text, Launched, NodeDirs};

fn with_hostname(text: &str, hostname: &str) -> Vec<u8> {
    let mut config = basalt_config::MachineConfig::from_yaml(text).unwrap();
    config
        .v1alpha1_mut()
        .unwrap()
        .machine
        .network
        .get_or_insert_with(Default::default)
        .hostname = Some(hostname.to_string());
    config.to_yaml().unwrap().into_bytes()
}

async fn apply(
    dirs: &NodeDirs,
    data: &[u8],
) -> Result<m::ApplyConfigurationResponse, tonic::Status> {
    let channel = connect_unix(&dirs.sockets().join("machine.sock"))
        .await
        .unwrap();
    MachineServiceClient::new(channel)
        .apply_configuration(m::ApplyConfigurationRequest {
            data: data.to_vec(),
            mode: m::apply_configuration_request::Mode::NoReboot as i32,
            dry_run: false,
            try_mode_timeout: None,
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_temp_write_and_rename_leaves_the_old_config() {
    let dirs = build_node();
    let old = config_text();
    let config_file = dirs.tmp.path().join("controlplane.yaml");
    std::fs::write(&config_file, &old).unwrap();

    // the only test of this binary: the variable reaches just this launcher
    std::env::set_var("BASALT_FAILPOINT", "apply-after-temp-write");
    let mut node = Launched::start(&dirs, &["--config", config_file.to_str().unwrap()]);
    std::env::remove_var("BASALT_FAILPOINT");
    node.wait_for_line("boot sequence done", 1);

    let new = with_hostname(&old, "crashed");
    let result = apply(&dirs, &new).await;
    assert!(result.is_err(), "machined should have died: {result:?}");
    node.wait_for_line("failpoint apply-after-temp-write", 1);
    assert_eq!(node.wait_exit(), 137, "machined is killed by the failpoint");

    // old config intact, the complete new one only in the temporary file
    assert_eq!(
        std::fs::read_to_string(dirs.state().join("config.yaml")).unwrap(),
        old
    );
    assert_eq!(
        std::fs::read(dirs.state().join(".config.yaml.tmp")).unwrap(),
        new
    );

    let mut node = Launched::start(&dirs, &[]);
    node.wait_for_line("machine config loaded from STATE", 1);
    node.wait_for_line("boot sequence done", 1);
    let reply = apply(&dirs, &new).await.unwrap();
    assert_eq!(
        reply.messages[0].mode,
        m::apply_configuration_request::Mode::NoReboot as i32
    );
    assert_eq!(
        std::fs::read(dirs.state().join("config.yaml")).unwrap(),
        new
    );
    assert!(!dirs.state().join(".config.yaml.tmp").exists());
    node.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(node.wait_exit(), 0);
}
