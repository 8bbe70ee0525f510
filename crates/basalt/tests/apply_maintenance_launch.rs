//! As root, with a real `basalt launch` and no config: machined waits in maintenance mode
//! with apid started as `apid --maintenance --maintenance-ca FILE` (the launcher copied the
//! pinned CA into the node), a config applied over the local socket is persisted and boot
//! continues, and apid is restarted in normal mode.
#![allow(clippy::unwrap_used)]

mod launch_support;

use basalt_api::machine as m;
use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::transport::connect_unix;
use launch_support::{build_node, config_text, eventually, pid_namespace, processes_in};

/// The command lines of the processes of pid namespace `ns` whose argv[1] is `apid`.
fn apid_cmdlines(ns: &str) -> Vec<String> {
    processes_in(ns)
        .into_iter()
        .filter_map(|(pid, _)| std::fs::read(format!("/proc/{pid}/cmdline")).ok())
        .map(|raw| {
            raw.split(|b| *b == 0)
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|cmd| cmd.split(' ').nth(1) == Some("apid"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_config_means_maintenance_until_a_config_is_applied() {
    let dirs = build_node();
    let ca = basalt_pki::CertificateAuthority::generate(
        &basalt_pki::CaSubject::organization("maintenance"),
        basalt_pki::KeyAlgorithm::Ed25519,
        basalt_pki::CA_LIFETIME,
    )
    .unwrap();
    let ca_file = dirs.tmp.path().join("maintenance-ca.crt");
    std::fs::write(&ca_file, ca.cert_pem()).unwrap();
    let mut node =
        launch_support::Launched::start(&dirs, &["--maintenance-ca", ca_file.to_str().unwrap()]);
    node.wait_for_line("maintenance mode: waiting for a config over the API", 1);
    let ns = pid_namespace(node.machined);
    eventually("apid in maintenance mode", || {
        apid_cmdlines(&ns)
            .iter()
            .any(|c| c.contains("--maintenance --maintenance-ca /run/basalt/maintenance-ca.crt"))
    });

    let config = config_text();
    let channel = connect_unix(&dirs.sockets().join("machine.sock"))
        .await
        .unwrap();
    let reply = MachineServiceClient::new(channel)
        .apply_configuration(m::ApplyConfigurationRequest {
            data: config.clone().into_bytes(),
            mode: m::apply_configuration_request::Mode::Auto as i32,
            dry_run: false,
            try_mode_timeout: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        reply.messages[0].mode_details.contains("boot continues"),
        "{}",
        reply.messages[0].mode_details
    );
    node.wait_for_line("boot sequence done", 1);
    assert_eq!(
        std::fs::read_to_string(dirs.state().join("config.yaml")).unwrap(),
        config
    );
    eventually("apid in normal mode", || {
        let cmds = apid_cmdlines(&ns);
        !cmds.is_empty() && cmds.iter().all(|c| !c.contains("--maintenance"))
    });
    node.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(node.wait_exit(), 0);
}
