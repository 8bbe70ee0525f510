//! What a `reset` does: leave etcd first or not, which system partitions to wipe, and whether
//! the machine reboots (into maintenance mode once STATE is wiped) or powers off afterwards.
//! The API stores the options in [`MachineState`](super::MachineState) before starting the
//! sequence; the reset tasks read them.

use std::fmt;

/// A system partition a reset may wipe, by its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SystemLabel {
    /// `STATE` (`/system/state`): the machine config and node identity.
    State,
    /// `EPHEMERAL` (`/var`): etcd data, logs, everything services keep.
    Ephemeral,
}

impl SystemLabel {
    /// Both labels, in wipe order.
    pub const ALL: [SystemLabel; 2] = [SystemLabel::State, SystemLabel::Ephemeral];

    /// The label as written on the partition (`STATE`, `EPHEMERAL`).
    pub fn name(self) -> &'static str {
        match self {
            SystemLabel::State => "STATE",
            SystemLabel::Ephemeral => "EPHEMERAL",
        }
    }

    /// Parses a label (case-sensitive, as Talos).
    pub fn parse(label: &str) -> Result<SystemLabel, ResetError> {
        SystemLabel::ALL
            .into_iter()
            .find(|l| l.name() == label)
            .ok_or_else(|| ResetError::UnknownLabel {
                label: label.to_string(),
            })
    }
}

impl fmt::Display for SystemLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A reset request the node cannot honour.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResetError {
    /// A partition label other than STATE or EPHEMERAL.
    #[error("reset: unknown system partition label {label:?}; Basalt has STATE and EPHEMERAL (e.g. --system-labels-to-wipe STATE,EPHEMERAL)")]
    UnknownLabel {
        /// The label as given.
        label: String,
    },
    /// User disks were named (Basalt manages no user disks).
    #[error("reset: wiping user disks ({disks}) is not supported: Basalt manages only its system partitions; drop --user-disks-to-wipe")]
    UserDisks {
        /// The disks as given, comma-separated.
        disks: String,
    },
}

/// How to reset. The default (Talos's too) wipes STATE and EPHEMERAL and powers off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetOptions {
    /// Leave etcd first (control-plane nodes): the member removes itself so the cluster's
    /// membership shrinks, instead of leaving a dead member behind.
    pub graceful: bool,
    /// Reboot afterwards (container mode: initialize + boot again in place) instead of
    /// powering off.
    pub reboot: bool,
    /// The partitions to wipe, in order, without duplicates.
    pub wipe: Vec<SystemLabel>,
}

impl Default for ResetOptions {
    fn default() -> Self {
        ResetOptions {
            graceful: true,
            reboot: false,
            wipe: SystemLabel::ALL.to_vec(),
        }
    }
}

impl ResetOptions {
    /// Options from a request's fields: `labels` empty means every partition; `user_disks`
    /// must be empty.
    pub fn new(
        graceful: bool,
        reboot: bool,
        labels: &[String],
        user_disks: &[String],
    ) -> Result<ResetOptions, ResetError> {
        if !user_disks.is_empty() {
            return Err(ResetError::UserDisks {
                disks: user_disks.join(","),
            });
        }
        let mut wipe = Vec::new();
        for label in labels {
            let label = SystemLabel::parse(label)?;
            if !wipe.contains(&label) {
                wipe.push(label);
            }
        }
        if wipe.is_empty() {
            wipe = SystemLabel::ALL.to_vec();
        }
        wipe.sort_by_key(|l| SystemLabel::ALL.iter().position(|x| x == l));
        Ok(ResetOptions {
            graceful,
            reboot,
            wipe,
        })
    }

    /// Whether `label` is wiped.
    pub fn wipes(&self, label: SystemLabel) -> bool {
        self.wipe.contains(&label)
    }
}

impl fmt::Display for ResetOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<&str> = self.wipe.iter().map(|l| l.name()).collect();
        write!(
            f,
            "graceful={}, wipe {}, then {}",
            self.graceful,
            labels.join(","),
            if self.reboot { "reboot" } else { "power off" }
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn empty_labels_wipe_everything() {
        let o = ResetOptions::new(true, false, &[], &[]).unwrap();
        assert_eq!(o, ResetOptions::default());
    }

    #[test]
    fn labels_are_deduplicated_and_ordered() {
        let o =
            ResetOptions::new(false, true, &s(&["EPHEMERAL", "STATE", "EPHEMERAL"]), &[]).unwrap();
        assert_eq!(o.wipe, vec![SystemLabel::State, SystemLabel::Ephemeral]);
        let o = ResetOptions::new(false, true, &s(&["EPHEMERAL"]), &[]).unwrap();
        assert!(!o.wipes(SystemLabel::State) && o.wipes(SystemLabel::Ephemeral));
        assert_eq!(o.to_string(), "graceful=false, wipe EPHEMERAL, then reboot");
    }

    #[test]
    fn unknown_labels_and_user_disks_are_refused_with_the_way_out() {
        let e = ResetOptions::new(true, false, &s(&["META"]), &[]).unwrap_err();
        assert!(e.to_string().contains("\"META\"") && e.to_string().contains("STATE"));
        let e = ResetOptions::new(true, false, &[], &s(&["/dev/sdb"])).unwrap_err();
        assert!(e.to_string().contains("/dev/sdb"));
    }
}
