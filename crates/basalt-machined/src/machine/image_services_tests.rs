#![allow(clippy::unwrap_used)]

use super::*;

fn p() -> PathBuf {
    PathBuf::from("/usr/lib/basalt/services/x.yaml")
}

#[test]
fn full_document() {
    let text = "name: web\ncommand: [/bin/web, -p, '80']\nenv: {A: b}\n\
                dependsOn: [{service: db, condition: healthy}, {service: q, condition: running}]\n\
                restart: untilSuccess\nhealth: {tcp: '127.0.0.1:80', period: 200ms}\nstopTimeout: 3s\n";
    let s = parse(&p(), text).unwrap();
    assert_eq!(s.id, "web");
    assert_eq!(s.argv, vec!["/bin/web", "-p", "80"]);
    assert!(s.env.contains(&("A".into(), "b".into())));
    assert!(s.env.contains(&("PATH".into(), DEFAULT_PATH.into())));
    assert_eq!(
        s.depends_on,
        vec![
            Dependency::ServiceHealthy("db".into()),
            Dependency::ServiceRunning("q".into())
        ]
    );
    assert_eq!(s.restart, RestartPolicy::UntilSuccess);
    assert_eq!(s.stop_timeout, Duration::from_secs(3));
    let h = s.health.unwrap();
    assert_eq!(h.period, Duration::from_millis(200));
    assert!(matches!(h.probe, Probe::Tcp(a) if a.port() == 80));
}

#[test]
fn minimal_document_defaults() {
    let s = parse(&p(), "name: a\ncommand: [/bin/a]\n").unwrap();
    assert_eq!(s.restart, RestartPolicy::Forever);
    assert!(s.health.is_none() && s.depends_on.is_empty());
}

#[test]
fn errors_name_file_and_field() {
    let cases = [
        ("name: a\ncommand: [/bin/a]\nbogus: 1\n", "bogus"),
        ("name: a\ncommand: []\n", "command"),
        ("name: a\ncommand: [/a]\nstopTimeout: ten\n", "stopTimeout"),
        (
            "name: a\ncommand: [/a]\nhealth: {tcp: nope}\n",
            "health.tcp",
        ),
        ("name: a\ncommand: [/a]\nrestart: always\n", "always"),
        (
            "name: a\ncommand: [/a]\ndependsOn: [{service: b, condition: ready}]\n",
            "dependsOn",
        ),
    ];
    for (text, needle) in cases {
        let e = parse(&p(), text).unwrap_err().to_string();
        assert!(e.contains("x.yaml") && e.contains(needle), "{needle}: {e}");
    }
}

#[test]
fn load_dir_skips_bad_and_duplicate_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "name: a\ncommand: [/a]\n").unwrap();
    std::fs::write(dir.path().join("b.yaml"), "name: a\ncommand: [/b]\n").unwrap();
    std::fs::write(dir.path().join("c.yaml"), "name: c\n").unwrap();
    std::fs::write(dir.path().join("d.txt"), "ignored").unwrap();
    let (specs, errors) = load_dir(dir.path());
    assert_eq!(
        specs.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
    assert_eq!(errors.len(), 2);
    assert!(errors[0].file.ends_with("b.yaml") && errors[0].field == "name");
    assert!(errors[1].file.ends_with("c.yaml"));
    assert!(load_dir(&dir.path().join("missing")).0.is_empty());
}
