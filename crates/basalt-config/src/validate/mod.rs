//! Semantic validation of a decoded machine config.
//!
//! [`validate`] collects every finding at once. Each names the document, the YAML line (when
//! the config came from text) and the field path, like decode errors do.

pub(crate) mod checks;
mod cluster;
mod documents;
mod machine;
mod network;
mod pki;

use std::fmt;
use std::str::FromStr;

use crate::decode::{display_path, LineIndex};
use crate::document::{Document, MachineConfig};

/// Where the config will run; some checks depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Real PID 1 on a VM or hardware: installs to disk.
    Metal,
    /// PID 1 of a container (namespaces): no install, network given by the provider.
    Container,
}

impl Mode {
    /// The accepted spellings.
    pub const VALID: &'static [&'static str] = &["metal", "container"];
}

/// An unknown mode name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode {0:?}; valid modes are: metal, container")]
pub struct ModeError(pub String);

impl FromStr for Mode {
    type Err = ModeError;

    fn from_str(s: &str) -> Result<Self, ModeError> {
        match s {
            "metal" => Ok(Mode::Metal),
            "container" => Ok(Mode::Container),
            other => Err(ModeError(other.to_string())),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Metal => "metal",
            Mode::Container => "container",
        })
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The config must not be applied.
    Error,
    /// Worth fixing; the config still applies.
    Warning,
}

/// One validation result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based document index.
    pub document: usize,
    /// `v1alpha1` or the document kind.
    pub kind: String,
    /// Field path, e.g. `.cluster.controlPlane.endpoint`.
    pub path: String,
    /// 1-based YAML line, when known.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {} ({})", self.document, self.kind)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        write!(f, ": {}: {}", display_path(&self.path), self.message)
    }
}

/// All findings of one validation run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Problems that make the config unusable.
    pub errors: Vec<Finding>,
    /// Problems worth a look.
    pub warnings: Vec<Finding>,
}

impl Report {
    /// True when there is no error (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "error: {e}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

/// Collects findings for one document.
pub(crate) struct Ctx<'a> {
    document: usize,
    kind: &'static str,
    lines: Option<&'a LineIndex>,
    pub mode: Mode,
    report: &'a mut Report,
}

impl Ctx<'_> {
    fn push(&mut self, path: &str, message: String, severity: Severity) {
        let finding = Finding {
            document: self.document,
            kind: self.kind.to_string(),
            path: path.to_string(),
            line: self.lines.and_then(|l| l.line(path)),
            message,
            severity,
        };
        match severity {
            Severity::Error => self.report.errors.push(finding),
            Severity::Warning => self.report.warnings.push(finding),
        }
    }

    /// Records an error at `path`.
    pub fn error(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, message.into(), Severity::Error);
    }

    /// Records a warning at `path`.
    pub fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, message.into(), Severity::Warning);
    }
}

/// Validates every document of `cfg` for `mode`, collecting all findings.
pub fn validate(cfg: &MachineConfig, mode: Mode) -> Report {
    let mut report = Report::default();
    let mut v1alpha1_count = 0;
    for (i, doc) in cfg.documents.iter().enumerate() {
        let mut ctx = Ctx {
            document: i + 1,
            kind: doc.kind_name(),
            lines: cfg.line_index(i),
            mode,
            report: &mut report,
        };
        match doc {
            Document::V1Alpha1(c) => {
                v1alpha1_count += 1;
                if v1alpha1_count > 1 {
                    ctx.error("", "a second v1alpha1 document; keep exactly one");
                }
                machine::check(c, &mut ctx);
                network::check(c, &mut ctx);
                cluster::check(c, &mut ctx);
                pki::check(c, &mut ctx);
            }
            other => documents::check(other, &mut ctx),
        }
    }
    if v1alpha1_count == 0 {
        report.errors.push(Finding {
            document: 0,
            kind: "stream".to_string(),
            path: String::new(),
            line: None,
            message:
                "no v1alpha1 document; add one with `version: v1alpha1`, `machine:` and `cluster:`"
                    .to_string(),
            severity: Severity::Error,
        });
    }
    report
}
