//! Config path precedence, completion, version and usage errors, via the real binary.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Sandbox, TWO_CONTEXTS};

const ONE_CONTEXT: &str = "context: from-home\ncontexts:\n  from-home:\n    endpoints: [h]\n";

fn current_context(out: &common::Run) -> String {
    let value: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    value["context"].as_str().unwrap().to_string()
}

#[test]
fn default_path_is_home_dot_basalt_config() {
    let sb = Sandbox::new();
    sb.write(".basalt/config", ONE_CONTEXT);
    let out = sb.run_raw(&["config", "info", "-o", "json"], &[]);
    assert_eq!(current_context(&out), "from-home");
}

#[test]
fn env_var_beats_default_and_flag_beats_env_var() {
    let sb = Sandbox::new();
    sb.write(".basalt/config", ONE_CONTEXT);
    let env_file = sb.write("env-config", TWO_CONTEXTS);
    let flag_file = sb.write(
        "flag-config",
        "context: from-flag\ncontexts:\n  from-flag:\n    endpoints: [f]\n",
    );
    let env = [("BASALTCONFIG", env_file.as_path())];

    let out = sb.run_raw(&["config", "info", "-o", "json"], &env);
    assert_eq!(current_context(&out), "a");

    let flag = flag_file.to_str().unwrap();
    let out = sb.run_raw(
        &["config", "info", "-o", "json", "--basaltconfig", flag],
        &env,
    );
    assert_eq!(current_context(&out), "from-flag");
}

#[test]
fn writes_go_to_the_env_var_file_and_create_its_directory() {
    let sb = Sandbox::new();
    let incoming = sb.write("incoming", TWO_CONTEXTS);
    let target = sb.path("deep/dir/config");
    let env = [("BASALTCONFIG", target.as_path())];
    sb.run_raw(&["config", "merge", incoming.to_str().unwrap()], &env)
        .ok();
    assert!(target.exists());
    assert!(!sb.path(".basalt/config").exists());
}

#[test]
fn completion_scripts_are_generated() {
    let sb = Sandbox::new();
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef"),
        ("fish", "complete -c"),
    ] {
        let out = sb.run_raw(&["completion", shell], &[]);
        let script = out.ok();
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("basaltctl"), "{shell}");
        assert!(
            script.contains("basaltconfig"),
            "{shell}: global flag missing"
        );
    }
    let out = sb.run_raw(&["completion", "tcsh"], &[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

#[test]
fn version_client_prints_and_server_version_is_a_clear_error() {
    let sb = Sandbox::new();
    let version = env!("CARGO_PKG_VERSION");
    let out = sb.run_raw(&["version", "--client"], &[]);
    assert!(
        out.ok().contains(&format!("Tag:      v{version}")),
        "{}",
        out.stdout
    );

    let out = sb.run_raw(&["version", "--client", "--short"], &[]);
    assert_eq!(out.ok(), format!("Client:\n\tbasaltctl v{version}\n"));

    let out = sb.run_raw(&["version"], &[]);
    let err = out.fails();
    assert!(err.contains("cannot reach the Basalt API"), "{err}");
    assert!(err.contains("--client"), "{err}");
    assert!(out.stdout.contains(version), "client version still shown");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let sb = Sandbox::new();
    assert_eq!(sb.run_raw(&["no-such-command"], &[]).code, Some(2));
    assert_eq!(
        sb.run_raw(&["config", "contexts", "-o", "xml"], &[]).code,
        Some(2)
    );
    assert_eq!(sb.run_raw(&[], &[]).code, Some(2));
    let help = sb.run_raw(&["config", "--help"], &[]);
    assert!(help.ok().contains("contexts"));
}
