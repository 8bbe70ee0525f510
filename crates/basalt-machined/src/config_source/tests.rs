#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;

use super::*;

/// A valid worker config in Talos v1alpha1 layout, generated like `basaltctl gen config`.
fn valid_config_text() -> String {
    let secrets = basalt_pki::SecretsBundle::generate().unwrap();
    let opts = basalt_config::generate::GenerateOptions::new("demo", "https://10.5.0.2:6443");
    let configs = basalt_config::generate::generate(&secrets, &opts).unwrap();
    configs.worker.to_yaml().unwrap()
}

struct Node {
    root: tempfile::TempDir,
}

impl Node {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("system/state")).unwrap();
        std::fs::create_dir_all(root.path().join("run")).unwrap();
        Node { root }
    }

    fn write(&self, inside: &str, text: &str) {
        std::fs::write(self.root.path().join(inside.trim_start_matches('/')), text).unwrap();
    }

    fn source(&self, argument: Option<&str>) -> ConfigSource {
        ConfigSource {
            root: self.root.path().to_path_buf(),
            state_dir: "/system/state".into(),
            argument: argument.map(PathBuf::from),
            mode: Mode::Container,
            fetch: FetchPolicy::default(),
            device_wait: Duration::from_millis(500),
        }
    }

    fn state_file(&self) -> PathBuf {
        self.root.path().join("system/state/config.yaml")
    }
}

fn acquire(source: &ConfigSource) -> (Acquired, Vec<String>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(acquire_async(source))
}

async fn acquire_async(source: &ConfigSource) -> (Acquired, Vec<String>) {
    let mut lines = Vec::new();
    let cancel = CancellationToken::new();
    let acquired = source.acquire(&cancel, &mut |l| lines.push(l)).await;
    (acquired, lines)
}

#[test]
fn state_config_wins_over_the_argument() {
    let node = Node::new();
    node.write("/system/state/config.yaml", &valid_config_text());
    node.write("/run/arg.yaml", "not: a config\n");
    let (acquired, _) = acquire(&node.source(Some("/run/arg.yaml")));
    match acquired {
        Acquired::Config { origin, .. } => {
            assert_eq!(origin, Origin::State("/system/state/config.yaml".into()))
        }
        other => panic!("expected a config, got {other:?}"),
    }
}

#[test]
fn argument_config_is_used_and_persisted_atomically() {
    let node = Node::new();
    let text = valid_config_text();
    node.write("/run/arg.yaml", &text);
    let (acquired, lines) = acquire(&node.source(Some("/run/arg.yaml")));
    assert!(matches!(
        acquired,
        Acquired::Config { origin: Origin::Argument(ConfigLocation::File(ref p)), .. }
            if p == Path::new("/run/arg.yaml")
    ));
    assert_eq!(std::fs::read_to_string(node.state_file()).unwrap(), text);
    let mode = std::fs::metadata(node.state_file())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(node.root.path().join("system/state"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("config.yaml")]);
    assert!(lines.iter().any(|l| l.contains("persisted")), "{lines:?}");
}

#[test]
fn no_source_means_maintenance() {
    let node = Node::new();
    let (acquired, _) = acquire(&node.source(None));
    assert!(matches!(
        acquired,
        Acquired::Maintenance(MaintenanceReason::NoConfig)
    ));
    // an argument naming a missing file is reported, not a silent fallback
    let (acquired, lines) = acquire(&node.source(Some("/run/missing.yaml")));
    assert!(matches!(
        acquired,
        Acquired::Maintenance(MaintenanceReason::Unavailable { .. })
    ));
    assert!(lines[0].contains("/run/missing.yaml"), "{lines:?}");
}

#[test]
fn invalid_config_goes_to_maintenance_with_every_finding_logged() {
    let node = Node::new();
    // decodes, but fails validation in several places (no token, no endpoint)
    node.write(
        "/system/state/config.yaml",
        "version: v1alpha1\nmachine:\n  type: worker\n  token: ''\ncluster: {}\n",
    );
    let (acquired, lines) = acquire(&node.source(None));
    let Acquired::Maintenance(MaintenanceReason::Invalid { origin, findings }) = acquired else {
        panic!("expected maintenance");
    };
    assert!(matches!(origin, Origin::State(_)));
    assert!(findings.len() >= 2, "{findings:?}");
    for f in &findings {
        assert!(
            lines.iter().any(|l| l.contains(f.as_str())),
            "{f} not logged"
        );
    }
}

#[test]
fn undecodable_argument_is_not_persisted() {
    let node = Node::new();
    node.write("/run/arg.yaml", "version: v1alpha1\nmachine: {bogus: 1}\n");
    let (acquired, lines) = acquire(&node.source(Some("/run/arg.yaml")));
    assert!(matches!(
        acquired,
        Acquired::Maintenance(MaintenanceReason::Invalid { .. })
    ));
    assert!(lines[0].contains("bogus"), "{lines:?}");
    assert!(!node.state_file().exists());
}

#[tokio::test]
async fn a_dev_argument_is_awaited_until_it_appears() {
    let node = Node::new();
    std::fs::create_dir_all(node.root.path().join("dev")).unwrap();
    let text = valid_config_text();
    let late = node.root.path().join("dev/vdb");
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        std::fs::write(late, text).unwrap();
    });
    let (acquired, lines) = acquire_async(&node.source(Some("/dev/vdb"))).await;
    assert!(matches!(acquired, Acquired::Config { .. }), "{lines:?}");
    assert!(lines[0].contains("waiting up to"), "{lines:?}");
    // one that never appears is reported after the wait
    let node = Node::new();
    let (acquired, lines) = acquire_async(&node.source(Some("/dev/vdz"))).await;
    assert!(
        matches!(
            acquired,
            Acquired::Maintenance(MaintenanceReason::Unavailable { .. })
        ),
        "{lines:?}"
    );
    assert!(lines[1].contains("/dev/vdz"), "{lines:?}");
}

#[test]
fn config_argument_parsing() {
    let words = "ro quiet basalt.config= basalt.config=/a.yaml basalt.config=/b.yaml";
    assert_eq!(
        config_argument(words.split_whitespace()),
        Some(PathBuf::from("/b.yaml"))
    );
    assert_eq!(config_argument(["basalt.config="]), None);
}

#[test]
fn atomic_write_replaces_content() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("f");
    write_atomically(&target, b"one", 0o600).unwrap();
    write_atomically(&target, b"two", 0o600).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"two");
    let e = write_atomically(&dir.path().join("missing/f"), b"x", 0o600).unwrap_err();
    assert!(e.to_string().contains("missing/.f.tmp"), "{e}");
}

#[test]
fn staged_config_is_promoted_before_loading() {
    let node = Node::new();
    node.write("/system/state/config.yaml", "not: used\n");
    let text = valid_config_text();
    node.write("/system/state/config.staged.yaml", &text);
    let (acquired, lines) = acquire(&node.source(None));
    assert!(matches!(acquired, Acquired::Config { .. }), "{lines:?}");
    assert_eq!(std::fs::read_to_string(node.state_file()).unwrap(), text);
    assert!(!node
        .root
        .path()
        .join("system/state/config.staged.yaml")
        .exists());
    assert!(lines.iter().any(|l| l.contains("promoted")), "{lines:?}");
}

#[test]
fn maintenance_ca_argument_parsing() {
    let words = "basalt.config=/c.yaml basalt.maintenance-ca=/run/basalt/ca.crt";
    assert_eq!(
        maintenance_ca_argument(words.split_whitespace()),
        Some(PathBuf::from("/run/basalt/ca.crt"))
    );
    assert_eq!(
        config_argument(words.split_whitespace()),
        Some(PathBuf::from("/c.yaml"))
    );
}

#[tokio::test]
async fn inbox_hands_a_config_to_the_waiting_receiver() {
    let inbox = Inbox::new();
    assert!(!inbox.is_waiting());
    let receiver = tokio::spawn({
        let inbox = inbox.clone();
        async move { inbox.receive().await }
    });
    while !inbox.is_waiting() {
        tokio::task::yield_now().await;
    }
    let config = MachineConfig::from_yaml(&valid_config_text()).unwrap();
    assert!(inbox.deliver(config.clone()));
    assert_eq!(receiver.await.unwrap(), config);
    assert!(!inbox.is_waiting());
}

mod disk;
mod fetch;
mod location;
