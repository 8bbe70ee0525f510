//! QEMU virtual machines: a builder for the command line, accelerator detection, and a
//! [`Vm`] handle that watches the serial console and the QEMU process.
//!
//! ```no_run
//! use basalt_provision::qemu::{Accel, Qemu};
//! # fn main() -> Result<(), basalt_provision::qemu::QemuError> {
//! let mut vm = Qemu::builder()
//!     .kernel("vmlinuz")
//!     .initrd("initramfs.img")
//!     .append("console=ttyS0 panic=-1")
//!     .serial_log("serial.log")
//!     .accel(Accel::Auto)
//!     .spawn()?;
//! let line = vm.wait_for_line(|l| l.contains("machined"), std::time::Duration::from_secs(60))?;
//! println!("{} after {:?}", line.text, line.after);
//! # Ok(()) }
//! ```

mod accel;
mod builder;
mod disk;
mod error;
mod port;
mod vm;

pub use accel::{Accel, ResolvedAccel};
pub use builder::{Qemu, QemuBuilder, TapNic, DEFAULT_MEMORY_MIB, QEMU_BINARY};
pub use disk::create_raw_disk;
pub use error::QemuError;
pub use port::free_local_port;
pub use vm::{SerialLine, Vm};
