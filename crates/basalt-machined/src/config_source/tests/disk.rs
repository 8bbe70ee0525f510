use std::io::Write as _;

use super::*;
use crate::config_source::disk::read_limited;
use crate::sys::{RealSyscall, Syscall as _};

/// A file standing in for a disk: `content` then `padding` NUL bytes.
fn image(content: &[u8], padding: usize) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(content).unwrap();
    file.write_all(&vec![0u8; padding]).unwrap();
    file.flush().unwrap();
    file
}

#[test]
fn reads_up_to_the_first_nul() {
    let disk = image(b"version: v1alpha1\n", 1 << 20);
    let bytes = read_config_disk(disk.path(), Path::new("/dev/vdb")).unwrap();
    assert_eq!(bytes, b"version: v1alpha1\n");
}

#[test]
fn reads_a_disk_without_nul_to_the_end() {
    let disk = image(b"abc", 0);
    assert_eq!(
        read_limited(disk.path(), Path::new("/dev/vdb"), 3).unwrap(),
        b"abc"
    );
}

#[test]
fn too_much_data_before_a_nul_is_refused_naming_the_device() {
    let disk = image(b"abcd", 10);
    let e = read_limited(disk.path(), Path::new("/dev/vdb"), 3).unwrap_err();
    assert!(matches!(e, DiskError::TooBig { .. }), "{e}");
    assert!(e.to_string().contains("/dev/vdb"), "{e}");
    // the real limit: 4 MiB + 1 bytes without NUL
    let disk = image(&vec![b'a'; MAX_CONFIG_BYTES + 1], 0);
    let e = read_config_disk(disk.path(), Path::new("/dev/vdc")).unwrap_err();
    assert!(matches!(e, DiskError::TooBig { .. }), "{e}");
    // exactly 4 MiB is fine
    let disk = image(&vec![b'a'; MAX_CONFIG_BYTES], 512);
    assert_eq!(
        read_config_disk(disk.path(), Path::new("/dev/vdc"))
            .unwrap()
            .len(),
        MAX_CONFIG_BYTES
    );
}

#[test]
fn empty_and_missing_disks_are_errors() {
    let disk = image(b"", 4096);
    let e = read_config_disk(disk.path(), Path::new("/dev/vdb")).unwrap_err();
    assert!(matches!(e, DiskError::Empty(_)), "{e}");
    let e = read_config_disk(Path::new("/nonexistent/vdz"), Path::new("/dev/vdz")).unwrap_err();
    assert!(e.to_string().contains("/dev/vdz"), "{e}");
}

/// Detaches the loop device when the test ends (also on failure).
struct Attached(PathBuf);

impl Drop for Attached {
    fn drop(&mut self) {
        let _ = RealSyscall.loop_detach(&self.0);
    }
}

#[test]
fn a_raw_config_disk_on_a_real_loop_device_is_loaded_and_persisted() {
    let text = valid_config_text();
    let disk = image(text.as_bytes(), 1 << 20);
    let device = RealSyscall.loop_attach(disk.path()).expect(
        "attaching a loop device (needs root and the loop module; package: kmod/util-linux)",
    );
    let device = Attached(device);
    let state = tempfile::tempdir().unwrap();
    let source = ConfigSource {
        root: "/".into(),
        state_dir: state.path().to_path_buf(),
        argument: Some(device.0.clone()),
        mode: Mode::Container,
        fetch: FetchPolicy::default(),
        device_wait: DEVICE_WAIT,
    };
    let (acquired, lines) = acquire(&source);
    let Acquired::Config { origin, bytes, .. } = acquired else {
        panic!("expected a config, got {acquired:?} ({lines:?})");
    };
    assert_eq!(
        origin,
        Origin::Argument(ConfigLocation::Disk(device.0.clone()))
    );
    assert_eq!(bytes, text.len());
    assert_eq!(
        std::fs::read_to_string(state.path().join(STATE_CONFIG_FILE)).unwrap(),
        text
    );
}
