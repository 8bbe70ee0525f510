//! `config add`, `config merge` and `config info`, with certificates made by real openssl.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::process::Command;

use common::{make_client_certs, Sandbox, TWO_CONTEXTS};

fn add_args(sb: &Sandbox, name: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["config", "add", name]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (flag, file) in [
        ("--ca", "ca.crt"),
        ("--crt", "client.crt"),
        ("--key", "client.key"),
    ] {
        args.push(flag.to_string());
        args.push(sb.path(file).display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run_strings(sb: &Sandbox, args: &[String]) -> common::Run {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.run(&refs)
}

#[test]
fn add_stores_base64_pem_and_refuses_duplicates() {
    let sb = Sandbox::new();
    make_client_certs(sb.dir.path());
    sb.write("config", TWO_CONTEXTS);

    run_strings(&sb, &add_args(&sb, "c", &[])).ok();
    let text = sb.read("config");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let stored = doc["contexts"]["c"]["key"].as_str().unwrap();
    let decoded = base64_decode(stored);
    assert_eq!(decoded, fs::read(sb.path("client.key")).unwrap());

    let err = run_strings(&sb, &add_args(&sb, "a", &[]))
        .fails()
        .to_string();
    assert!(err.contains("already exists"), "{err}");
    assert!(err.contains("--replace"), "{err}");

    run_strings(&sb, &add_args(&sb, "a", &["--replace"])).ok();
    let doc: serde_yaml::Value = serde_yaml::from_str(&sb.read("config")).unwrap();
    assert!(doc["contexts"]["a"]["crt"].is_string());
    assert_eq!(
        doc["contexts"]["a"]["endpoints"][0].as_str(),
        Some("10.0.0.1")
    );
}

#[test]
fn add_rejects_a_file_that_is_not_pem() {
    let sb = Sandbox::new();
    make_client_certs(sb.dir.path());
    sb.write("client.key", "not a key");
    let err = run_strings(&sb, &add_args(&sb, "c", &[]))
        .fails()
        .to_string();
    assert!(err.contains("--key"), "{err}");
    assert!(err.contains("is not a PEM file"), "{err}");
    assert!(!sb.path("config").exists());
}

#[test]
fn info_shows_roles_and_expiry_from_the_certificate() {
    let sb = Sandbox::new();
    make_client_certs(sb.dir.path());
    sb.write("config", TWO_CONTEXTS);
    run_strings(&sb, &add_args(&sb, "a", &["--replace"])).ok();

    let text = sb.run(&["config", "info"]).ok().to_string();
    assert!(text.starts_with("Current context:     a\n"), "{text}");
    assert!(text.contains("Nodes:               10.0.0.11\n"), "{text}");
    assert!(text.contains("Endpoints:           10.0.0.1\n"), "{text}");
    assert!(
        text.contains("Roles:               os:admin, os:reader\n"),
        "{text}"
    );
    assert!(
        text.contains("Certificate expires: 29 days from now ("),
        "{text}"
    );

    let json = sb.run(&["config", "info", "-o", "json"]);
    let value: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(value["context"], "a");
    assert_eq!(value["roles"], serde_json::json!(["os:admin", "os:reader"]));
    assert_eq!(value["certNotAfter"], openssl_end_date(&sb));

    let yaml = sb.run(&["config", "info", "-o", "yaml"]);
    let value: serde_yaml::Value = serde_yaml::from_str(yaml.ok()).unwrap();
    assert_eq!(value["context"].as_str(), Some("a"));
}

#[test]
fn info_applies_context_endpoint_and_node_overrides() {
    let sb = Sandbox::new();
    sb.write("config", TWO_CONTEXTS);
    let json = sb.run(&[
        "--context",
        "b",
        "-e",
        "e1,e2",
        "-n",
        "n1",
        "--nodes",
        "n2",
        "config",
        "info",
        "-o",
        "json",
    ]);
    let value: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(value["context"], "b");
    assert_eq!(value["endpoints"], serde_json::json!(["e1", "e2"]));
    assert_eq!(value["nodes"], serde_json::json!(["n1", "n2"]));
    assert_eq!(value["roles"], serde_json::json!([]));
}

#[test]
fn merge_renames_clashing_contexts_and_switches_current() {
    let sb = Sandbox::new();
    sb.write("config", TWO_CONTEXTS);
    let incoming = sb.write(
        "incoming",
        "context: a\ncontexts:\n  a:\n    endpoints: [9.9.9.9]\n  new:\n    endpoints: [8.8.8.8]\n",
    );
    let out = sb.run(&["config", "merge", incoming.to_str().unwrap()]);
    out.ok();
    assert!(
        out.stderr.contains("renamed context \"a\" -> \"a-1\""),
        "{}",
        out.stderr
    );

    // Merging the same file again needs the next free suffix.
    let out = sb.run(&["config", "merge", incoming.to_str().unwrap()]);
    out.ok();
    assert!(out.stderr.contains("\"a\" -> \"a-2\""), "{}", out.stderr);
    assert!(
        out.stderr.contains("\"new\" -> \"new-1\""),
        "{}",
        out.stderr
    );

    let table = sb.run(&["config", "contexts"]).ok().to_string();
    let names: Vec<&str> = table
        .lines()
        .skip(1)
        .map(|l| l.trim_start_matches('*').split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["a", "a-1", "a-2", "b", "new", "new-1"]);
    assert!(table.contains("*         a-2"), "{table}");
}

#[test]
fn merge_into_missing_file_creates_it_and_missing_source_fails() {
    let sb = Sandbox::new();
    let incoming = sb.write("incoming", TWO_CONTEXTS);
    sb.run(&["config", "merge", incoming.to_str().unwrap()])
        .ok();
    assert!(sb.read("config").starts_with("context: a\n"));

    let err = sb
        .run(&["config", "merge", "/nonexistent/file"])
        .fails()
        .to_string();
    assert!(err.contains("/nonexistent/file does not exist"), "{err}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    let output = Command::new("openssl")
        .args(["base64", "-d", "-A"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(output.status.success());
    output.stdout
}

/// The certificate's notAfter as YYYY-MM-DD, computed by openssl and GNU date.
fn openssl_end_date(sb: &Sandbox) -> String {
    let output = Command::new("openssl")
        .args(["x509", "-noout", "-enddate", "-in"])
        .arg(sb.path("client.crt"))
        .output()
        .unwrap();
    let line = String::from_utf8(output.stdout).unwrap();
    let when = line.trim().trim_start_matches("notAfter=");
    let output = Command::new("date")
        .args(["-u", "-d", when, "+%F"])
        .output()
        .unwrap();
    assert!(output.status.success(), "date could not parse {when:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}
