//! Editing a node's machine config (YAML text in, YAML text out) for apply-config tests,
//! and retrying a `basaltctl` call until the node answers (after a reboot in place).

use std::time::{Duration, Instant};

use basalt_config::v1alpha1::{Config, NetworkConfig, StringMap};
use basalt_config::MachineConfig;

/// `text` with its v1alpha1 document changed by `change`.
pub fn edit(text: &str, change: impl FnOnce(&mut Config)) -> String {
    let mut config = MachineConfig::from_yaml(text).unwrap();
    change(config.v1alpha1_mut().unwrap());
    config.to_yaml().unwrap()
}

/// `text` with `machine.network.hostname` = `hostname`.
pub fn with_hostname(text: &str, hostname: &str) -> String {
    edit(text, |c| {
        c.machine
            .network
            .get_or_insert_with(NetworkConfig::default)
            .hostname = Some(hostname.to_string());
    })
}

/// `text` with `machine.env[key]` = `value` (a change that needs a reboot).
pub fn with_env(text: &str, key: &str, value: &str) -> String {
    edit(text, |c| {
        c.machine
            .env
            .get_or_insert_with(|| StringMap(Default::default()))
            .0
            .insert(key.to_string(), value.to_string());
    })
}

/// `text` with the first address of the first interface replaced by `address`.
pub fn with_address(text: &str, address: &str) -> String {
    edit(text, |c| {
        let network = c.machine.network.as_mut().unwrap();
        let device = &mut network.interfaces.as_mut().unwrap()[0];
        device.addresses = Some(vec![address.to_string()]);
    })
}

/// Runs `call` until it exits 0 (60 s at most); returns its stdout.
pub fn until_ok(what: &str, mut call: impl FnMut() -> (i32, String, String)) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, out, err) = call();
        if code == 0 {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "not within 60 s: {what}; last try exited {code}:\n{out}\n{err}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
