//! The failure path: say why on the console, count down, reboot. Never continue booting.

use std::time::Duration;

use super::{BootError, Env};
use crate::sys::RebootMode;

/// Seconds shown before the reboot.
pub const COUNTDOWN_SECS: u32 = 10;

/// Prints `basalt: <KIND>: <reason>`, counts down [`Env::countdown_secs`], syncs and reboots.
/// Returns the exit code for when the reboot did not happen (a failed call, or a test double).
pub fn fail(env: &mut Env<'_>, err: &BootError) -> i32 {
    env.say(format_args!("{}: {err}", err.kind()));
    let secs = env.countdown_secs;
    env.say(format_args!(
        "this image will not be booted; rebooting in {secs} s"
    ));
    for left in (1..=secs).rev() {
        env.say(format_args!("rebooting in {left}..."));
        env.sys.sleep(Duration::from_secs(1));
    }
    env.sys.sync();
    if let Err(e) = env.sys.reboot(RebootMode::RB_AUTOBOOT) {
        env.say(format_args!("reboot failed: {e}; exiting PID 1 instead"));
    }
    1
}
