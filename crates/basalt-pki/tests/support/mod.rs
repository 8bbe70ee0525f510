//! Helpers for driving the real `openssl` CLI from tests.

#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory for PEM files handed to openssl.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `content` to `name` inside the scratch directory.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }
}

/// Runs `openssl` with `args`. Panics (never skips) when openssl is missing.
pub fn openssl<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    match Command::new("openssl").args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "the `openssl` command is not installed; these tests need the real OpenSSL CLI. \
             Install it (e.g. `apt-get install openssl`) and re-run."
        ),
        Err(e) => panic!("could not run openssl: {e}"),
    }
}

/// Runs openssl and asserts success; returns stdout.
pub fn openssl_ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let out = openssl(args);
    assert!(
        out.status.success(),
        "openssl {:?} failed:\n{}{}",
        args.iter()
            .map(|a| a.as_ref().to_owned())
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `openssl verify [-purpose P] -CAfile ca leaf`; returns (success, combined output).
pub fn verify(ca: &Path, leaf: &Path, purpose: Option<&str>) -> (bool, String) {
    let mut args: Vec<String> = vec!["verify".into()];
    if let Some(p) = purpose {
        args.extend(["-purpose".into(), p.into()]);
    }
    args.extend([
        "-CAfile".into(),
        ca.display().to_string(),
        leaf.display().to_string(),
    ]);
    let out = openssl(&args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `openssl x509 -noout -text` of a PEM file.
pub fn x509_text(cert: &Path) -> String {
    openssl_ok(&[
        "x509",
        "-noout",
        "-text",
        "-in",
        &cert.display().to_string(),
    ])
}
