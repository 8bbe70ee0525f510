use super::*;

fn parse(value: &str) -> Result<ConfigLocation, LocationError> {
    ConfigLocation::parse(Path::new(value))
}

#[test]
fn argument_forms() {
    assert_eq!(
        parse("http://10.0.2.2:8080/worker.yaml").unwrap(),
        ConfigLocation::Url("http://10.0.2.2:8080/worker.yaml".into())
    );
    assert_eq!(
        parse("/dev/vdb").unwrap(),
        ConfigLocation::File("/dev/vdb".into())
    );
    assert_eq!(
        parse("/run/c.yaml").unwrap(),
        ConfigLocation::File("/run/c.yaml".into())
    );
    let https = parse("https://x/c.yaml").unwrap_err();
    assert!(matches!(https, LocationError::Https(_)));
    assert!(https.to_string().contains("not supported yet"), "{https}");
    assert!(https.to_string().contains("config disk"), "{https}");
    assert!(matches!(
        parse("tftp://x/c").unwrap_err(),
        LocationError::Scheme(_)
    ));
    assert!(matches!(
        parse("c.yaml").unwrap_err(),
        LocationError::Relative(_)
    ));
    let bad = parse("http://x:port/c").unwrap_err();
    assert!(matches!(bad, LocationError::BadUrl { .. }), "{bad}");
    assert!(bad.to_string().contains("http://x:port/c"), "{bad}");
}

#[test]
fn http_targets() {
    let t = HttpTarget::parse("http://10.0.2.2:8080/a/b.yaml?x=1").unwrap();
    assert_eq!(
        (
            t.host.as_str(),
            t.port,
            t.path.as_str(),
            t.authority.as_str()
        ),
        ("10.0.2.2", 8080, "/a/b.yaml?x=1", "10.0.2.2:8080")
    );
    let t = HttpTarget::parse("http://config.lan").unwrap();
    assert_eq!(
        (t.host.as_str(), t.port, t.path.as_str()),
        ("config.lan", 80, "/")
    );
    let t = HttpTarget::parse("http://[fd00::1]:81/c").unwrap();
    assert_eq!((t.host.as_str(), t.port), ("fd00::1", 81));
    assert!(HttpTarget::parse("http://user@h/c").is_err());
}

#[test]
fn display_names_the_argument() {
    assert_eq!(
        ConfigLocation::Url("http://h/c".into()).to_string(),
        "basalt.config=http://h/c"
    );
    assert_eq!(
        ConfigLocation::Disk("/dev/vdb".into()).to_string(),
        "basalt.config=/dev/vdb (config disk)"
    );
    assert_eq!(
        ConfigLocation::File("/run/c.yaml".into()).to_string(),
        "basalt.config=/run/c.yaml"
    );
}

#[test]
fn only_block_devices_are_disks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.yaml");
    std::fs::write(&file, "x").unwrap();
    let location = ConfigLocation::File("/c.yaml".into());
    assert_eq!(location.clone().resolve_device(&file), location);
    // a character device is not a disk either
    assert_eq!(
        location.clone().resolve_device(Path::new("/dev/null")),
        location
    );
}

#[test]
fn https_argument_goes_to_maintenance_naming_it() {
    let node = Node::new();
    let (acquired, lines) = acquire(&node.source(Some("https://10.0.2.2/c.yaml")));
    let Acquired::Maintenance(reason @ MaintenanceReason::Unavailable { .. }) = acquired else {
        panic!("expected maintenance, got {acquired:?}");
    };
    assert!(
        reason.to_string().contains("https://10.0.2.2/c.yaml"),
        "{reason}"
    );
    assert!(lines[0].contains("https is not supported"), "{lines:?}");
}
