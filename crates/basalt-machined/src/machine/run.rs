//! machined's main: assemble the parts, boot, serve requests until halted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use basalt_resources::Store;
use tokio_util::sync::CancellationToken;

use super::config_apply::ConfigApplier;
use super::handle::MachineHandle;
use super::options::MachinedOptions;
use super::resources;
use crate::api::{self, ApiHandle};
use crate::config_source::{MaintenanceHook, WaitForApply};
use crate::events::EventBus;
use crate::logs::ServiceLog;
use crate::pid1::{self, console, Request, Signals};
use crate::platform::{Mode, Paths};
use crate::process::Reaper;
use crate::sequencer::{
    self, Context, Halt, MachineState, SequenceKind, Sequencer, SequencerError,
};
use crate::supervisor::{Supervisor, SupervisorConfig};
use crate::sys::{RealSyscall, RebootMode, Syscall};

/// Events kept on the bus for replay.
pub const EVENT_HISTORY: usize = 4096;

/// How long boot waits for services before reporting the machine not ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// `basalt machined ARGS…`: returns the exit code (only container mode ever returns 0).
pub fn main(argv0: &str, args: &[String]) -> i32 {
    if let Err(e) = pid1::reset_signal_mask().and_then(|()| pid1::hold_request_signals()) {
        console::log(format_args!("warning: cannot set the signal mask: {e}"));
    }
    let opts = match MachinedOptions::parse(argv0, args) {
        Ok(o) => o,
        Err(e) => {
            console::log(format_args!("{e}"));
            return 2;
        }
    };
    let sys: Arc<dyn Syscall> = Arc::new(RealSyscall);
    pid1::install_panic_hook(opts.mode, sys.clone());
    // One thread runs every task: SIGTERM/SIGINT stay blocked until their handlers exist
    // (see `run`), and service processes are spawned from this thread once they are
    // unblocked again, so no child inherits a blocked signal (children inherit the mask).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            console::log(format_args!("cannot start the async runtime: {e}"));
            return 1;
        }
    };
    let code = runtime.block_on(run(opts, sys));
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

/// Assembles store, bus, reaper, supervisor and sequencer for `mode` on the node at `paths`.
pub fn assemble(
    mode: Mode,
    sys: Arc<dyn Syscall>,
    paths: Paths,
    config_argument: Option<PathBuf>,
    exe: PathBuf,
    maintenance: Arc<dyn MaintenanceHook>,
) -> Result<MachineHandle, crate::process::ProcessError> {
    let reaper = Reaper::start()?;
    let store = Store::new();
    let bus = EventBus::new(EVENT_HISTORY);
    if let Err(e) = resources::register(&store) {
        console::log(format_args!(
            "warning: cannot register resource definitions: {e}"
        ));
    }
    let supervisor = Supervisor::new(
        store.clone(),
        bus.clone(),
        reaper,
        SupervisorConfig {
            log_dir: None,
            wrapper: exe.clone(),
        },
    );
    let machine = Arc::new(MachineState::new());
    let ctx = Context {
        sys,
        mode,
        paths,
        store: store.clone(),
        bus: bus.clone(),
        supervisor: supervisor.clone(),
        config_argument,
        exe,
        maintenance,
        machine: machine.clone(),
        ready_timeout: READY_TIMEOUT,
        cancel: Default::default(),
    };
    let sequencer = Sequencer::new(ctx, sequencer::sequences::for_mode(mode));
    let applier = ConfigApplier::new(sequencer.clone());
    Ok(MachineHandle {
        store,
        bus,
        supervisor,
        sequencer,
        machine,
        applier,
    })
}

async fn run(opts: MachinedOptions, sys: Arc<dyn Syscall>) -> i32 {
    console::log(format_args!(
        "machined starting: platform {}, pid {}, image {}",
        opts.mode,
        std::process::id(),
        opts.image_version
            .as_deref()
            .unwrap_or("(none: not booted from a signed image)")
    ));
    let handle = match assemble(
        opts.mode,
        sys.clone(),
        Paths::node(),
        opts.config_argument.clone(),
        opts.exe.clone(),
        Arc::new(WaitForApply),
    ) {
        Ok(h) => h,
        Err(e) => {
            console::log(format_args!("cannot start the process reaper: {e}"));
            return 1;
        }
    };
    handle
        .machine
        .set_maintenance_ca(opts.maintenance_ca.clone());
    let machined_log = handle.supervisor.extra_log("machined");
    console::mirror_to(machined_log.clone());
    let api_shutdown = CancellationToken::new();
    tokio::spawn(serve_api(
        handle.clone(),
        opts.mode,
        machined_log,
        opts.image_version.clone(),
        api_shutdown.clone(),
    ));
    match Signals::listen() {
        Ok(signals) => {
            tokio::spawn(handle_signals(signals, handle.clone()));
        }
        Err(e) => console::log(format_args!("warning: no signal handling: {e}")),
    }
    // pending SIGTERM/SIGINT (sent while machined started) are delivered now
    if let Err(e) = pid1::release_request_signals() {
        console::log(format_args!("warning: cannot unblock SIGTERM/SIGINT: {e}"));
    }
    let mut halt = handle.machine.halt_requests();
    tokio::spawn(boot(handle.clone()));
    loop {
        let requested = match halt.wait_for(Option::is_some).await {
            Ok(h) => *h,
            Err(_) => None,
        };
        // let the sequence that asked for the halt finish (its stop event is published)
        let _ = tokio::time::timeout(Duration::from_secs(5), handle.sequencer.idle()).await;
        match (requested, opts.mode) {
            (Some(Halt::PowerOff), Mode::Container) => {
                api_shutdown.cancel();
                console::log(format_args!("machined exiting: the node is shut down"));
                return 0;
            }
            (Some(h), Mode::Metal) => {
                let how = match h {
                    Halt::PowerOff => RebootMode::RB_POWER_OFF,
                    Halt::Reboot => RebootMode::RB_AUTOBOOT,
                };
                sys.sync();
                if let Err(e) = sys.reboot(how) {
                    console::log(format_args!("{e}; staying up"));
                }
            }
            // only a reset asks for this (a container reboot runs in place): boot again
            (Some(Halt::Reboot), Mode::Container) => {
                handle.machine.request_halt_clear();
                tokio::spawn(boot(handle.clone()));
            }
            (None, _) => {}
        }
        handle.machine.request_halt_clear();
    }
}

/// Serves the machine API on its unix socket until `shutdown`; a failure is logged and
/// machined stays up (the console and signals still work).
async fn serve_api(
    handle: MachineHandle,
    mode: Mode,
    log: ServiceLog,
    image_version: Option<String>,
    shutdown: CancellationToken,
) {
    if mode == Mode::Metal {
        wait_for_system_mount(Path::new("/"), Path::new("/system")).await;
    }
    let mut api = ApiHandle::from_machine(&handle, &mode.to_string());
    api.machined_log = Some(log);
    api.node.image_version = image_version;
    let socket = Path::new(api::SOCKET_PATH);
    console::log(format_args!(
        "machine API listening on {}",
        socket.display()
    ));
    if let Err(e) = api::serve(api, socket, shutdown).await {
        console::log(format_args!("machine API stopped: {e}"));
    }
}

/// How long the API waits for `/system` to be mounted in metal mode.
const SYSTEM_MOUNT_WAIT: Duration = Duration::from_secs(60);

/// Waits until `system` is a mount of its own (another device than `root`): in metal mode the
/// root is the read-only SquashFS and the socket directory lives on the tmpfs that
/// `initialize` mounts on `/system`. Gives up (and lets the bind report the problem) after
/// [`SYSTEM_MOUNT_WAIT`].
async fn wait_for_system_mount(root: &Path, system: &Path) {
    use std::os::unix::fs::MetadataExt as _;
    let device = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
    let deadline = tokio::time::Instant::now() + SYSTEM_MOUNT_WAIT;
    while tokio::time::Instant::now() < deadline {
        match (device(root), device(system)) {
            (Some(r), Some(s)) if r != s => return,
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// `initialize` then `boot`; failures leave the machine up (reboot/shutdown still work).
async fn boot(handle: MachineHandle) {
    let seq = handle.sequencer.clone();
    let result = match seq.run(SequenceKind::Initialize).await {
        Ok(()) => seq.run(SequenceKind::Boot).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => console::log(format_args!("boot sequence done")),
        Err(e @ SequencerError::Cancelled { .. }) => console::log(format_args!("{e}")),
        Err(e) => console::log(format_args!(
            "{e}; the machine stays up and accepts reboot and shutdown"
        )),
    }
    if pid1::sigpipe_ignored() == Some(false) {
        console::log(format_args!("warning: SIGPIPE is not ignored"));
    }
}

async fn handle_signals(mut signals: Signals, handle: MachineHandle) {
    while let Some(request) = signals.next().await {
        let result = match request {
            Request::Shutdown => {
                console::log(format_args!("SIGTERM: shutdown requested"));
                handle.shutdown()
            }
            Request::Reboot => {
                console::log(format_args!("SIGINT: reboot requested"));
                handle.reboot()
            }
        };
        if let Err(e) = result {
            console::log(format_args!("{e}"));
        }
    }
}
