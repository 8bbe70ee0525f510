//! The in-process figures: decode + validate throughput and patch throughput.

use std::hint::black_box;
use std::time::Duration;

use basalt_config::patch::{apply_all, parse_patch};
use basalt_config::validate::{validate, Mode};
use basalt_config::MachineConfig;

use crate::input::Input;
use crate::measure::{time_for, Row, Timing};

/// A strategic merge patch of the kind users write: hostname and extra certificate SANs.
const STRATEGIC: &str = "\
machine:
  network:
    hostname: bench-cp-1
  certSANs:
    - 10.5.0.2
    - cp.bench.example
";

/// An RFC 6902 JSON patch: one `add` and one `replace`.
const JSON_PATCH: &str = r#"[
  {"op": "add", "path": "/machine/kubelet/extraArgs", "value": {"rotate-server-certificates": "true"}},
  {"op": "replace", "path": "/cluster/clusterName", "value": "bench"}
]"#;

/// Decodes and validates (mode metal) the input config repeatedly.
pub fn decode_validate(input: &Input, budget: Duration) -> Vec<Row> {
    let name = "decode + validate (metal)";
    let result = time_for(budget, || {
        let config = MachineConfig::from_yaml(black_box(&input.text))
            .map_err(|err| format!("decoding the benchmark config failed: {err}"))?;
        black_box(validate(&config, Mode::Metal));
        Ok::<(), String>(())
    });
    match result {
        Ok(timing) => rows(
            name,
            "docs/s",
            &timing,
            &format!(
                "one config per op: {} ({} bytes); MachineConfig::from_yaml + validate",
                input.origin,
                input.text.len()
            ),
        ),
        Err(reason) => vec![Row::failed(name, &reason)],
    }
}

/// Applies a strategic merge patch and a JSON patch (parsed once) to the input repeatedly.
pub fn patch(input: &Input, budget: Duration) -> Vec<Row> {
    let name = "patch apply (strategic merge + JSON 6902)";
    let patches = match (
        parse_patch(STRATEGIC, "bench strategic merge"),
        parse_patch(JSON_PATCH, "bench JSON patch"),
    ) {
        (Ok(strategic), Ok(json)) => vec![strategic, json],
        (Err(err), _) | (_, Err(err)) => {
            return vec![Row::failed(
                name,
                &format!("parsing the bench patches failed: {err}"),
            )]
        }
    };
    let result = time_for(budget, || {
        let patched = apply_all(black_box(&input.text), black_box(&patches))
            .map_err(|err| format!("applying the bench patches failed: {err}"))?;
        black_box(patched);
        Ok::<(), String>(())
    });
    match result {
        Ok(timing) => {
            let per_patch = Timing {
                ops: timing.ops * patches.len() as u64,
                elapsed: timing.elapsed,
            };
            rows(
                name,
                "patches/s",
                &per_patch,
                &format!(
                    "{} patches per apply_all call on {} ({} bytes), text in and text out",
                    patches.len(),
                    input.origin,
                    input.text.len()
                ),
            )
        }
        Err(reason) => vec![Row::failed(name, &reason)],
    }
}

/// Two rows per figure: throughput and time per operation.
fn rows(name: &str, unit: &str, timing: &Timing, notes: &str) -> Vec<Row> {
    let sample = format!(
        "{notes}; {} {unit_name} in {:.2}s, release build",
        timing.ops,
        timing.elapsed.as_secs_f64(),
        unit_name = unit.trim_end_matches("/s")
    );
    vec![
        Row {
            name: format!("{name} throughput"),
            value: Some(timing.per_second()),
            unit: unit.to_string(),
            notes: sample.clone(),
        },
        Row {
            name: format!("{name} latency"),
            value: Some(timing.micros_per_op()),
            unit: "µs/op".to_string(),
            notes: sample,
        },
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SMALL: &str = "\
version: v1alpha1
machine:
  type: controlplane
  kubelet:
    image: ghcr.io/siderolabs/kubelet:v1.32.0
cluster:
  clusterName: demo
";

    fn small() -> Input {
        Input {
            text: SMALL.to_string(),
            origin: "test config".to_string(),
        }
    }

    #[test]
    fn decode_validate_figure_measures_the_talos_fixture() {
        let input = crate::input::load(None).unwrap();
        let rows = decode_validate(&input, Duration::from_millis(20));
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].unit, "docs/s");
        assert!(rows[0].value.is_some_and(|v| v > 0.0), "{rows:?}");
        assert!(rows[1].value.is_some_and(|v| v > 0.0), "{rows:?}");
    }

    #[test]
    fn decode_validate_figure_reports_a_decode_error() {
        let input = Input {
            text: "version: v1alpha1\nmachine:\n  netwrok: {}\n".to_string(),
            origin: "misspelled".to_string(),
        };
        let rows = decode_validate(&input, Duration::from_millis(20));
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].value, None);
        assert!(rows[0].notes.contains(".machine.netwrok"), "{rows:?}");
    }

    #[test]
    fn patch_figure_measures_both_patches() {
        let rows = patch(&small(), Duration::from_millis(20));
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].unit, "patches/s");
        assert!(rows[0].value.is_some_and(|v| v > 0.0), "{rows:?}");
        assert_eq!(rows[1].unit, "µs/op");
        assert!(rows[0].notes.contains("2 patches per apply_all call"));
    }

    #[test]
    fn patch_figure_reports_a_failing_patch_instead_of_a_number() {
        let input = Input {
            text: "version: v1alpha1\nmachine: {}\n".to_string(),
            origin: "config without cluster".to_string(),
        };
        let rows = patch(&input, Duration::from_millis(20));
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].value, None);
        assert!(rows[0]
            .notes
            .starts_with("FAILED: applying the bench patches failed"));
    }
}
