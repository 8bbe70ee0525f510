//! `/init`: the boot path from the initramfs into the verified, read-only root.
//!
//! The kernel starts the static `basalt` binary as `/init` (PID 1). It
//! 1. mounts proc, sysfs and devtmpfs and takes `/dev/console` as stdio ([`mounts`]);
//! 2. loads the kernel modules listed in `/lib/modules/*/modules.order` ([`modules`]);
//! 3. verifies `/manifest.json` + `/manifest.sig` with the public key built into this binary and
//!    the full sha256 of `/rootfs.sqsh` ([`verify`]);
//! 4. attaches `/rootfs.sqsh` read-only to a loop device ([`loopdev`]);
//! 5. mounts it on `/newroot`, moves `/dev`, `/proc`, `/sys` there, switches root and execs
//!    `/usr/bin/basalt machined --platform metal` ([`switch_root`]).
//!
//! Any failure prints `basalt: IMAGE VERIFICATION FAILED: <reason>` or `basalt: BOOT FAILED:
//! <reason>`, counts down and reboots ([`failure`]); it never continues into the image.
//! Every privileged step goes through [`Syscall`], so the sequence is unit-tested with
//! [`crate::sys::RecordingSyscall`].

mod error;
pub mod failure;
pub mod loopdev;
pub mod modules;
pub mod mounts;
pub mod switch_root;
pub mod verify;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use error::{BootError, FailureKind};

use crate::sys::{RealSyscall, Syscall};

/// The program the verified root runs as PID 1, with its arguments (argv[0] first).
pub const MACHINED: &str = "/usr/bin/basalt";
/// Arguments of [`MACHINED`]; [`machined_argv`] adds `--image-version`.
pub const MACHINED_ARGV: [&str; 4] = [MACHINED, "machined", "--platform", "metal"];

/// The full argv of machined for the verified image `version`.
pub fn machined_argv(version: &str) -> Vec<String> {
    let mut argv: Vec<String> = MACHINED_ARGV.iter().map(|a| a.to_string()).collect();
    argv.push("--image-version".to_string());
    argv.push(version.to_string());
    argv
}

/// What the boot path works with; [`main`] builds the real one.
pub struct Env<'a> {
    /// The kernel interface.
    pub sys: &'a dyn Syscall,
    /// Where the initramfs files are read (`/` for real; a directory in tests).
    pub root: PathBuf,
    /// The trusted image key; `None` refuses every image.
    pub public_key: Option<[u8; 32]>,
    /// The console lines go here.
    pub console: &'a mut dyn Write,
    /// Seconds counted down before the reboot after a failure.
    pub countdown_secs: u32,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("sys", &self.sys)
            .field("root", &self.root)
            .field("public_key", &self.public_key.is_some())
            .field("countdown_secs", &self.countdown_secs)
            .finish_non_exhaustive()
    }
}

impl Env<'_> {
    /// `rel` (absolute inside the initramfs, like `/rootfs.sqsh`) under [`Env::root`].
    pub fn file(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    /// Writes one `basalt: …` console line (a closed console is ignored).
    pub fn say(&mut self, line: std::fmt::Arguments<'_>) {
        let _ = writeln!(self.console, "basalt: {line}");
        let _ = self.console.flush();
    }
}

/// Entry point of `/init` (argv[0] basename `init`, or `basalt init`).
pub fn main() -> i32 {
    let sys = RealSyscall;
    let mut stdout = std::io::stdout();
    let mut env = Env {
        sys: &sys,
        root: PathBuf::from("/"),
        public_key: basalt_image::manifest::built_in_public_key(),
        console: &mut stdout,
        countdown_secs: failure::COUNTDOWN_SECS,
    };
    run(&mut env)
}

/// Runs the boot path; returns only after a failure was handled (or, with a test double, after
/// the recorded exec). The return value is the exit code (PID 1 exiting panics the kernel,
/// which `panic=-1` on the command line turns into a reboot).
pub fn run(env: &mut Env<'_>) -> i32 {
    match boot(env) {
        Ok(()) => 0,
        Err(err) => failure::fail(env, &err),
    }
}

/// The sequence; `Ok` only when a test double "executed" machined.
pub fn boot(env: &mut Env<'_>) -> Result<(), BootError> {
    let start = Instant::now();
    mounts::early(env)?;
    modules::load_all(env)?;
    let manifest = verify::verify_image(env)?;
    let device = loopdev::attach(env)?;
    switch_root::switch_root(env, &device)?;
    env.say(format_args!(
        "/init done in {} ms; starting machined (image {})",
        start.elapsed().as_millis(),
        manifest.version
    ));
    env.sys
        .exec(Path::new(MACHINED), &machined_argv(&manifest.version))?;
    Ok(())
}
