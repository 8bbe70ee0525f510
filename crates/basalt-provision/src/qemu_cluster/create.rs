//! `create`: check everything first, then make the bridge, the taps and the VMs step by
//! step, recording each step in `state.json`; on a failure remove what was made.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::destroy::destroy_state;
use super::net::{add_tap, mac_for};
use super::state::{QemuClusterState, VmState, PROVISIONER};
use super::QemuClusterError;
use crate::container::ip::{self, ip};
use crate::container::{cluster_dir, process, tail, ClusterPlan, ContainerError, NodePlan};
use crate::qemu::{Accel, Qemu, ResolvedAccel, DEFAULT_MEMORY_MIB};

/// The boot files a QEMU cluster needs in the image directory (`cargo xtask image` output).
pub const IMAGE_FILES: [&str; 3] = ["vmlinuz", "initramfs.img", "cmdline"];
/// Size of each VM's sparse system disk (`vda`): STATE + EPHEMERAL.
pub const DATA_DISK_BYTES: u64 = 1 << 30;
/// Smallest raw config disk (`vdb`); larger configs get a disk one MiB above their size.
const CONFIG_DISK_MIN_BYTES: u64 = 1 << 20;
/// How long a new QEMU must stay up (or print something) to count as started: QEMU fails at
/// once on a busy tap or a bad accelerator; TCG VMs started together may print nothing for
/// their first ~15 s (kernel and initramfs loading).
const START_GRACE: Duration = Duration::from_secs(2);

/// What to create.
#[derive(Debug, Clone)]
pub struct QemuCreateRequest {
    /// Names, addresses, bridge and tap names.
    pub plan: ClusterPlan,
    /// Where clusters live (`~/.basalt/clusters`).
    pub clusters_dir: PathBuf,
    /// The image directory holding [`IMAGE_FILES`] (`target/image`).
    pub image_dir: PathBuf,
    /// The machine config of every node, in plan order.
    pub configs: Vec<Vec<u8>>,
    /// `--accel auto|tcg|kvm`.
    pub accel: Accel,
    /// Guest memory per VM (default [`DEFAULT_MEMORY_MIB`]).
    pub memory_mib: u32,
}

impl QemuCreateRequest {
    /// A request with the default memory size.
    pub fn new(
        plan: ClusterPlan,
        clusters_dir: PathBuf,
        image_dir: PathBuf,
        configs: Vec<Vec<u8>>,
        accel: Accel,
    ) -> Self {
        QemuCreateRequest {
            plan,
            clusters_dir,
            image_dir,
            configs,
            accel,
            memory_mib: DEFAULT_MEMORY_MIB,
        }
    }
}

/// Refuses a cluster that exists (directory, bridge, taps), a CIDR in use, missing boot
/// files, a missing `/dev/net/tun` or a non-root caller. Touches nothing.
pub fn preflight(
    plan: &ClusterPlan,
    clusters_dir: &Path,
    image_dir: &Path,
) -> Result<(), QemuClusterError> {
    let exists = |what: String| ContainerError::Exists {
        name: plan.name.clone(),
        what,
    };
    let dir = cluster_dir(clusters_dir, &plan.name);
    if dir.exists() {
        return Err(exists(format!("directory {}", dir.display())).into());
    }
    if !nix::unistd::geteuid().is_root() {
        return Err(ContainerError::NotRoot.into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err(QemuClusterError::NoTun);
    }
    if ip::link_exists(&plan.bridge) {
        return Err(exists(format!("bridge {}", plan.bridge)).into());
    }
    for node in &plan.nodes {
        if ip::link_exists(&node.veth) {
            return Err(exists(format!("tap {} (node {})", node.veth, node.name)).into());
        }
    }
    if let Some((used, source_kind)) = ip::overlap(plan.cidr)? {
        return Err(ContainerError::CidrInUse {
            cidr: plan.cidr.to_string(),
            used,
            source_kind,
        }
        .into());
    }
    for file in IMAGE_FILES {
        let path = image_dir.join(file);
        if !path.is_file() {
            return Err(QemuClusterError::NoImageFile { path });
        }
    }
    Ok(())
}

/// Creates the cluster and starts every VM; returns its state. `progress` gets one line per
/// step. The VMs are left running (their own process group) when the caller exits.
pub fn create(
    req: &QemuCreateRequest,
    progress: &mut dyn FnMut(&str),
) -> Result<QemuClusterState, QemuClusterError> {
    let plan = &req.plan;
    if req.configs.len() != plan.nodes.len() {
        return Err(ContainerError::BadName {
            name: plan.name.clone(),
            reason: format!(
                "{} configs given for {} nodes (internal error)",
                req.configs.len(),
                plan.nodes.len()
            ),
        }
        .into());
    }
    preflight(plan, &req.clusters_dir, &req.image_dir)?;
    let accel = req.accel.resolve()?;
    let dir = cluster_dir(&req.clusters_dir, &plan.name);
    std::fs::create_dir_all(&req.clusters_dir)
        .map_err(ContainerError::io("create", &req.clusters_dir))?;
    // create_dir (not _all): fails if another create raced us to the same name.
    std::fs::create_dir(&dir).map_err(ContainerError::io("create", &dir))?;
    let mut state = QemuClusterState {
        provisioner: PROVISIONER.to_string(),
        plan: plan.clone(),
        dir,
        accel: accel.to_string(),
        bridge_made: false,
        taps: Vec::new(),
        vms: Vec::new(),
    };
    match build(req, accel, &mut state, progress) {
        Ok(()) => Ok(state),
        Err(cause) => {
            let report = destroy_state(&state, Duration::from_secs(5));
            Err(QemuClusterError::RolledBack {
                cause: Box::new(cause),
                cleaned: report.summary(),
            })
        }
    }
}

fn build(
    req: &QemuCreateRequest,
    accel: ResolvedAccel,
    state: &mut QemuClusterState,
    progress: &mut dyn FnMut(&str),
) -> Result<(), QemuClusterError> {
    let plan = &req.plan;
    let dir = state.dir.clone();
    state.save()?;
    let image = copy_image(&req.image_dir, &dir)?;
    progress(&format!("boot files copied to {}", image.display()));

    ip(&["link", "add", &plan.bridge, "type", "bridge"])?;
    state.bridge_made = true;
    state.save()?;
    let gw = format!("{}/{}", plan.gateway, plan.cidr.prefix_len());
    ip(&["addr", "add", &gw, "dev", &plan.bridge])?;
    ip(&["link", "set", &plan.bridge, "up"])?;
    for node in &plan.nodes {
        // Recorded first: a tap half-made (added, not yet on the bridge) is still removed.
        state.taps.push(node.veth.clone());
        state.save()?;
        add_tap(&node.veth, &plan.bridge)?;
    }
    progress(&format!(
        "bridge {} with {gw}, {} taps",
        plan.bridge,
        plan.nodes.len()
    ));

    let cmdline = std::fs::read_to_string(image.join("cmdline"))
        .map_err(ContainerError::io("read", image.join("cmdline")))?;
    for (node, config) in plan.nodes.iter().zip(&req.configs) {
        let vm = start_vm(req, accel, &dir, &image, cmdline.trim(), node, config)?;
        state.vms.push(vm);
        state.save()?;
    }
    let spawned = Instant::now();
    for vm in &state.vms {
        wait_started(vm, spawned)?;
        progress(&format!(
            "VM {} started (QEMU pid {}, {accel}, {} MiB, tap {}, mac {})",
            vm.name, vm.pid, req.memory_mib, vm.tap, vm.mac
        ));
    }
    Ok(())
}

/// Copies the boot files into the cluster (later rebuilds do not touch a running cluster).
fn copy_image(image_dir: &Path, dir: &Path) -> Result<PathBuf, ContainerError> {
    let image = dir.join("image");
    std::fs::create_dir(&image).map_err(ContainerError::io("create", &image))?;
    for file in IMAGE_FILES {
        let from = image_dir.join(file);
        std::fs::copy(&from, image.join(file)).map_err(ContainerError::io("copy", &from))?;
    }
    Ok(image)
}

fn start_vm(
    req: &QemuCreateRequest,
    accel: ResolvedAccel,
    dir: &Path,
    image: &Path,
    cmdline: &str,
    node: &NodePlan,
    config: &[u8],
) -> Result<VmState, QemuClusterError> {
    let node_dir = dir.join("nodes").join(&node.name);
    std::fs::create_dir_all(&node_dir).map_err(ContainerError::io("create", &node_dir))?;
    let data = node_dir.join("data.raw");
    crate::qemu::create_raw_disk(&data, DATA_DISK_BYTES)?;
    write_private(&node_dir.join("config.yaml"), config, 0)?;
    let config_disk = node_dir.join("config.raw");
    let padded = (config.len() as u64 + CONFIG_DISK_MIN_BYTES).next_multiple_of(1 << 20);
    write_private(&config_disk, config, padded)?;
    let console = node_dir.join("console.log");
    File::create(&console).map_err(ContainerError::io("create", &console))?;
    let mac = mac_for(node.ip);
    let builder = Qemu::builder()
        .kernel(image.join("vmlinuz"))
        .initrd(image.join("initramfs.img"))
        .append(format!(
            "{cmdline} basalt.disk=/dev/vda basalt.config=/dev/vdb"
        ))
        .memory_mib(req.memory_mib)
        .disk(&data)
        .readonly_disk(&config_disk)
        .tap_nic(&node.veth, &mac)
        .serial_log(&console)
        // A guest reboot (apply-config, reset --reboot) restarts the VM in place.
        .no_reboot(false);
    let args = builder.argv(accel)?;
    let stderr_path = node_dir.join("console.log.qemu-stderr");
    let stderr = File::create(&stderr_path).map_err(ContainerError::io("create", &stderr_path))?;
    let mut cmd = Command::new(builder.program());
    cmd.args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    // Its own process group: a Ctrl-C in the terminal does not reach the VMs.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd
        .spawn()
        .map_err(|source| crate::qemu::QemuError::Spawn {
            binary: builder.program().display().to_string(),
            source,
        })?;
    let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    Ok(VmState {
        name: node.name.clone(),
        pid,
        start_time: process::start_time(pid),
        tap: node.veth.clone(),
        mac,
        dir: node_dir,
    })
}

/// Writes `bytes` to a new 0600 file, then extends it with NUL bytes to `size` (sparse).
fn write_private(path: &Path, bytes: &[u8], size: u64) -> Result<(), ContainerError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(ContainerError::io("create", path))?;
    f.write_all(bytes)
        .map_err(ContainerError::io("write", path))?;
    if size > bytes.len() as u64 {
        f.set_len(size).map_err(ContainerError::io("size", path))?;
    }
    Ok(())
}

/// Waits until the VM printed something or stayed up for [`START_GRACE`]; fails with
/// QEMU's stderr if it exits (a busy tap, a bad accelerator).
fn wait_started(vm: &VmState, since: Instant) -> Result<(), QemuClusterError> {
    let log = vm.console_log();
    let deadline = since + START_GRACE;
    loop {
        let running = vm.is_running();
        let size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        if running && (size > 0 || Instant::now() >= deadline) {
            return Ok(());
        }
        if !running {
            let text =
                String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).replace('\r', "");
            let stderr_path = vm.dir.join("console.log.qemu-stderr");
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            return Err(QemuClusterError::VmExited {
                node: vm.name.clone(),
                status: "exited".to_string(),
                stderr: stderr.trim().to_string(),
                log,
                tail: tail(&text, 15),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn config_disk_is_the_yaml_then_nul_padding() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config.raw");
        write_private(&path, b"version: v1alpha1\n", 1 << 20).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 1 << 20);
        assert!(bytes.starts_with(b"version: v1alpha1\n"));
        assert!(bytes[18..].iter().all(|b| *b == 0));
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(write_private(&path, b"x", 0).is_err(), "never overwrites");
    }

    #[test]
    fn preflight_names_missing_boot_files() {
        if !nix::unistd::geteuid().is_root() || !Path::new("/dev/net/tun").exists() {
            // The earlier checks answer first; covered by the root test in basaltctl.
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let plan = ClusterPlan::new("qpre", "10.231.77.0/24", 1, 0).unwrap();
        let e = preflight(&plan, tmp.path(), tmp.path()).unwrap_err();
        assert!(e.to_string().contains("vmlinuz"), "{e}");
        assert!(e.to_string().contains("cargo xtask image"), "{e}");
        assert!(!tmp.path().join("qpre").exists());
    }
}
