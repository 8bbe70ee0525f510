//! Helpers for running the real `basaltctl` binary against temporary config files.
#![allow(clippy::unwrap_used, dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory that also serves as `$HOME`, so the default config path
/// (`~/.basalt/config`) never touches the real home directory.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

/// Result of one run of the binary.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts exit code 1 with one `error: ` message (no panic) and returns stderr.
    pub fn fails(&self) -> &str {
        assert_eq!(
            self.code,
            Some(1),
            "expected exit code 1\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stderr.starts_with("error: "),
            "stderr: {}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "stderr: {}", self.stderr);
        assert!(!self.stderr.contains("crashed"), "stderr: {}", self.stderr);
        &self.stderr
    }
}

impl Sandbox {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The command with a clean environment: HOME is the sandbox, no BASALTCONFIG.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_basaltctl"));
        cmd.env("HOME", self.dir.path()).env_remove("BASALTCONFIG");
        cmd
    }

    /// Runs with `--basaltconfig <sandbox>/config` followed by `args`.
    pub fn run(&self, args: &[&str]) -> Run {
        let config = self.path("config");
        let mut cmd = self.command();
        cmd.arg("--basaltconfig").arg(&config).args(args);
        Run::from(cmd.output().unwrap())
    }

    /// Runs `args` exactly as given (with the clean environment plus `env`).
    pub fn run_raw(&self, args: &[&str], env: &[(&str, &Path)]) -> Run {
        let mut cmd = self.command();
        for (key, value) in env {
            cmd.env(key, value);
        }
        Run::from(cmd.args(args).output().unwrap())
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, text).unwrap();
        path
    }

    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).unwrap()
    }
}

/// Runs the `openssl` CLI in `dir`; panics with its stderr if it fails or is missing.
pub fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the `openssl` binary is required by these tests but could not be run");
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Creates `ca.crt`, `client.crt` (Organizations `os:admin` and `os:reader`, valid
/// 30 days) and `client.key` in `dir` with the real openssl CLI.
pub fn make_client_certs(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ed25519",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/O=basalt/CN=test-ca",
            "-days",
            "3650",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ed25519",
            "-nodes",
            "-keyout",
            "client.key",
            "-out",
            "client.csr",
            "-subj",
            "/O=os:admin/O=os:reader/CN=admin",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "7",
            "-days",
            "30",
            "-out",
            "client.crt",
        ],
    );
}

/// A config with contexts `a` (current) and `b`, credentials omitted.
pub const TWO_CONTEXTS: &str = "context: a
contexts:
    a:
        endpoints:
            - 10.0.0.1
        nodes:
            - 10.0.0.11
    b:
        endpoints:
            - 10.0.0.2
";
