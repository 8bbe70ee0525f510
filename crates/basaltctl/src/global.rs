//! Flags accepted by every command (as in `talosctl`), and the helpers built on them.

use std::path::PathBuf;

use basalt_client_config::{ConfigFile, ConfigPath};
use clap::Args;

/// Global flags. `--endpoints` and `--nodes` take comma-separated values and may repeat.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Client config file [default: $BASALTCONFIG, else ~/.basalt/config]
    #[arg(long, global = true, value_name = "PATH")]
    pub basaltconfig: Option<PathBuf>,

    /// Context to use instead of the current one
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// Endpoints to use instead of the context's (comma-separated or repeated)
    #[arg(
        short = 'e',
        long,
        global = true,
        value_delimiter = ',',
        value_name = "ENDPOINT"
    )]
    pub endpoints: Vec<String>,

    /// Nodes to target instead of the context's (comma-separated or repeated)
    #[arg(
        short = 'n',
        long,
        global = true,
        value_delimiter = ',',
        value_name = "NODE"
    )]
    pub nodes: Vec<String>,

    /// Do not verify the server's certificate and send no client certificate unless the
    /// server asks for one (a node in maintenance mode); -n names the node to connect to
    #[arg(long, global = true)]
    pub insecure: bool,

    /// With --insecure: accept only a server certificate with this SHA-256 fingerprint
    /// (sha256:<hex>, as the node prints it); may repeat
    #[arg(long, global = true, value_name = "sha256:HEX", requires = "insecure")]
    pub cert_fingerprint: Vec<String>,

    /// Talk to machined's local API on this unix socket (e.g. /system/run/machined/machine.sock)
    #[arg(long, global = true, env = "BASALT_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

impl GlobalArgs {
    /// The client config path: `--basaltconfig`, else `$BASALTCONFIG`, else `~/.basalt/config`.
    pub fn config_path(&self) -> PathBuf {
        ConfigPath::from_env().resolve(self.basaltconfig.as_deref())
    }

    /// Loads the client config (a missing file is an empty config).
    pub fn load_config(&self) -> anyhow::Result<ConfigFile> {
        Ok(ConfigFile::load(&self.config_path())?)
    }
}
