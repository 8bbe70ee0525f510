//! The panic hook: PID 1 must not die silently.

use std::sync::Arc;

use basalt_config::validate::Mode;

use super::console;
use crate::sys::{RebootMode, Syscall};

/// Exit status of machined after a panic in container mode (`EX_SOFTWARE`).
pub const PANIC_EXIT_CODE: i32 = 70;

/// Installs a panic hook that logs the panic (message and location) to the console and then
/// reboots the machine through `sys` (metal) or exits with [`PANIC_EXIT_CODE`] (container).
pub fn install_panic_hook(mode: Mode, sys: Arc<dyn Syscall>) {
    std::panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "unknown location".to_string());
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        console::log(format_args!("PANIC at {location}: {message}"));
        match mode {
            Mode::Metal => {
                console::log(format_args!("rebooting after the panic"));
                sys.sync();
                if let Err(e) = sys.reboot(RebootMode::RB_AUTOBOOT) {
                    console::log(format_args!("reboot after panic failed: {e}"));
                }
                std::process::exit(PANIC_EXIT_CODE);
            }
            Mode::Container => {
                console::log(format_args!(
                    "exiting with status {PANIC_EXIT_CODE}: the container's namespaces end"
                ));
                std::process::exit(PANIC_EXIT_CODE);
            }
        }
    }));
}
