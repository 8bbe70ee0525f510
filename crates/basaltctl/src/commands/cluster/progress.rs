//! Step lines with elapsed time, and a spinner while waiting.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Prints `[  1.2s] message` lines on stderr, timed from creation.
#[derive(Debug)]
pub struct Steps {
    start: Instant,
}

impl Steps {
    /// Starts the clock.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// One finished step.
    pub fn done(&self, message: &str) {
        eprintln!("[{:>6.1}s] {message}", self.elapsed().as_secs_f64());
    }

    /// A spinner for a wait; finish it with [`Spinner::finish`].
    pub fn spinner(&self, message: &str) -> Spinner {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("[{elapsed:>5}] {spinner} {msg}") {
            bar.set_style(style);
        }
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Spinner { bar }
    }
}

/// A running spinner.
#[derive(Debug)]
pub struct Spinner {
    bar: ProgressBar,
}

impl Spinner {
    /// Updates the message (e.g. what is still missing).
    pub fn set(&self, message: String) {
        self.bar.set_message(message);
    }

    /// Removes the spinner.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
