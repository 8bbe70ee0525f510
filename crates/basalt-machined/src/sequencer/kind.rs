//! The sequences machined knows and who may interrupt whom.

use std::fmt;

/// A named sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SequenceKind {
    /// Pseudo file systems, config, hostname, first resources.
    Initialize,
    /// EPHEMERAL, services, readiness.
    Boot,
    /// Stop everything, then initialize and boot again (in place in container mode).
    Reboot,
    /// Stop everything and end the machine.
    Shutdown,
    /// Shutdown, wiping STATE and EPHEMERAL.
    Reset,
}

impl SequenceKind {
    /// Every kind.
    pub const ALL: [SequenceKind; 5] = [
        SequenceKind::Initialize,
        SequenceKind::Boot,
        SequenceKind::Reboot,
        SequenceKind::Shutdown,
        SequenceKind::Reset,
    ];

    /// The name used in events and messages (`"boot"`).
    pub fn name(self) -> &'static str {
        match self {
            SequenceKind::Initialize => "initialize",
            SequenceKind::Boot => "boot",
            SequenceKind::Reboot => "reboot",
            SequenceKind::Shutdown => "shutdown",
            SequenceKind::Reset => "reset",
        }
    }

    /// Whether a request for `self` may cancel a running `other`: reboot, shutdown and reset
    /// interrupt initialize and boot (a node stuck booting can always be stopped).
    pub fn takes_over(self, other: SequenceKind) -> bool {
        matches!(
            self,
            SequenceKind::Reboot | SequenceKind::Shutdown | SequenceKind::Reset
        ) && matches!(other, SequenceKind::Initialize | SequenceKind::Boot)
    }
}

impl fmt::Display for SequenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::SequenceKind::*;

    #[test]
    fn takeover_rules() {
        for stopper in [Reboot, Shutdown, Reset] {
            assert!(stopper.takes_over(Boot) && stopper.takes_over(Initialize));
            for busy in [Reboot, Shutdown, Reset] {
                assert!(!stopper.takes_over(busy), "{stopper} over {busy}");
            }
        }
        assert!(!Boot.takes_over(Initialize) && !Boot.takes_over(Boot));
    }
}
