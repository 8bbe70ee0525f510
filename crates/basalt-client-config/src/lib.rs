//! The `basaltctl` client config ("basaltconfig"), in the layout of Talos's `talosconfig`.
//!
//! * [`ClientConfig`] is the document: a current context and named [`Context`]s, each with
//!   endpoints, nodes and base64-encoded PEM credentials ([`PemBlob`]). Decoding is strict:
//!   unknown keys and bad values are errors naming the field and line ([`ParseError`]).
//! * [`ConfigFile`] loads and atomically saves it (mode 0600, parent directory 0700).
//! * [`ConfigPath`] resolves where it lives: `--basaltconfig`, then `$BASALTCONFIG`,
//!   then `~/.basalt/config`.

mod codec;
mod error;
mod file;
mod model;
mod path;
mod pem;
mod unique_map;

pub use error::{Error, ParseError};
pub use file::{write_private_file, ConfigFile};
pub use model::{AddMode, ClientConfig, Context, Rename};
pub use path::{ConfigPath, ENV_VAR};
pub use pem::{PemBlob, PemError};
