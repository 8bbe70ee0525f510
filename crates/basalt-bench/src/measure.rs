//! A tiny timing loop and the JSON row format that `cargo xtask bench` collects.

use std::time::{Duration, Instant};

use serde::Serialize;

/// One figure, printed as one JSON object per line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// What was measured.
    pub name: String,
    /// The measured value (`None` if the measurement failed).
    pub value: Option<f64>,
    /// Unit of `value`.
    pub unit: String,
    /// How it was measured, or why it failed.
    pub notes: String,
}

impl Row {
    /// A row for a figure that could not be measured.
    pub fn failed(name: &str, reason: &str) -> Row {
        Row {
            name: name.to_string(),
            value: None,
            unit: String::new(),
            notes: format!("FAILED: {reason}"),
        }
    }

    /// The row as one line of JSON.
    pub fn to_json_line(&self) -> String {
        // Serializing plain strings and an f64 cannot fail; fall back to a visible marker anyway.
        serde_json::to_string(self).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
    }
}

/// Result of timing an operation repeatedly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Number of completed operations.
    pub ops: u64,
    /// Total time spent in them.
    pub elapsed: Duration,
}

impl Timing {
    /// Operations per second.
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Microseconds per operation.
    pub fn micros_per_op(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e6 / self.ops.max(1) as f64
    }
}

/// Runs `op` once to warm up, then repeatedly until `budget` has passed.
/// Stops at the first error and returns it (a figure built on failures would lie).
pub fn time_for<E>(budget: Duration, mut op: impl FnMut() -> Result<(), E>) -> Result<Timing, E> {
    op()?;
    let started = Instant::now();
    let mut ops = 0u64;
    loop {
        op()?;
        ops += 1;
        let elapsed = started.elapsed();
        if elapsed >= budget {
            return Ok(Timing { ops, elapsed });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn time_for_counts_until_budget() {
        let mut calls = 0u32;
        let timing = time_for(Duration::from_millis(20), || {
            calls += 1;
            std::thread::sleep(Duration::from_millis(2));
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(timing.elapsed >= Duration::from_millis(20));
        assert_eq!(
            u64::from(calls),
            timing.ops + 1,
            "warm-up call is not counted"
        );
        assert!(timing.per_second() > 0.0 && timing.per_second() < 600.0);
    }

    #[test]
    fn time_for_stops_on_error() {
        let mut calls = 0;
        let result = time_for(Duration::from_secs(10), || {
            calls += 1;
            if calls == 3 {
                Err("bad")
            } else {
                Ok(())
            }
        });
        assert_eq!(result, Err("bad"));
    }

    #[test]
    fn rates_are_consistent() {
        let timing = Timing {
            ops: 2_000,
            elapsed: Duration::from_secs(1),
        };
        assert_eq!(timing.per_second(), 2_000.0);
        assert_eq!(timing.micros_per_op(), 500.0);
    }

    #[test]
    fn row_serializes_to_one_line_with_the_four_fields() {
        let row = Row {
            name: "n".into(),
            value: Some(2.5),
            unit: "docs/s".into(),
            notes: "x".into(),
        };
        let line = row.to_json_line();
        assert!(!line.contains('\n'));
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["name"], "n");
        assert_eq!(back["value"], 2.5);
        assert_eq!(back["unit"], "docs/s");
        assert_eq!(back["notes"], "x");
        assert!(Row::failed("f", "why")
            .to_json_line()
            .contains("\"value\":null"));
    }
}
