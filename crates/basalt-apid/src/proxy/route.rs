//! Where a call goes, decided from its `node`, `nodes` and `proxyfrom` metadata (Talos's
//! director rules), and what a target name means.

use tonic::metadata::MetadataMap;
use tonic::Status;

/// The port apid listens on; a target without a port means this one.
pub const APID_PORT: u16 = 50000;

/// Metadata naming one target (Talos one-to-one).
pub const NODE: &str = "node";
/// Metadata naming the targets to fan out to (comma-separated and/or repeated).
pub const NODES: &str = "nodes";
/// Metadata an apid sets when forwarding; its presence means: handle locally.
pub const PROXY_FROM: &str = "proxyfrom";
/// Metadata carrying the original caller's roles.
pub const ROLES: &str = "x-basalt-roles";

/// Methods whose replies are streams of messages that each carry their metadata in field 1
/// (`common.Data`, `machine.Event`); their fan-out interleaves messages. Every other
/// method's fan-out concatenates unary replies.
pub const STREAMING_METHODS: &[&str] = &[
    "/machine.MachineService/Dmesg",
    "/machine.MachineService/EtcdSnapshot",
    "/machine.MachineService/Events",
    "/machine.MachineService/Logs",
];

/// Services whose replies follow Talos's per-node reply shape and so can be fanned out.
/// COSI replies carry no per-node metadata: one node per call (as in Talos).
const FAN_OUT_SERVICES: &[&str] = &["/machine.MachineService/"];

/// One place a call can go.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// machined on this node, over its unix socket.
    Local,
    /// The apid of another node.
    Remote(RemoteAddr),
}

/// A remote apid: the target as the caller wrote it, and where to connect.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoteAddr {
    /// The target as given (also the cache key and the name in error messages).
    pub name: String,
    /// Host name or IP address (no brackets); also the TLS server name.
    pub host: String,
    /// TCP port ([`APID_PORT`] unless the target names one).
    pub port: u16,
}

/// Where a call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// One backend, streamed through unchanged.
    One(Target),
    /// Several backends (named as given), replies merged and tagged per node.
    Many(Vec<(String, Target)>),
}

/// Decides the route of a call to `method` with `metadata`.
///
/// `local_names` are this node's addresses and hostname: a target equal to one of them (or
/// whose host is one of them, on apid's port) goes to the local socket. In
/// `maintenance` nothing is forwarded: a call naming any other node is FAILED_PRECONDITION.
pub fn route(
    metadata: &MetadataMap,
    method: &str,
    local_names: &[String],
    maintenance: bool,
) -> Result<Route, Status> {
    if metadata.contains_key(PROXY_FROM) {
        return Ok(Route::One(Target::Local));
    }
    let nodes = list(metadata, NODES)?;
    let node = list(metadata, NODE)?;
    if node.len() > 1 {
        return Err(Status::invalid_argument(format!(
            "metadata '{NODE}' must name exactly one node (got {}); use '{NODES}' to address several",
            node.join(",")
        )));
    }
    let resolve = |name: &String| -> Result<(String, Target), Status> {
        let target = resolve(name, local_names)?;
        if maintenance && target != Target::Local {
            return Err(Status::failed_precondition(format!(
                "forwarding is off in maintenance mode: this node cannot reach {name}; \
                 connect to that node directly"
            )));
        }
        Ok((name.clone(), target))
    };
    if !nodes.is_empty() {
        let targets = nodes.iter().map(resolve).collect::<Result<Vec<_>, _>>()?;
        if FAN_OUT_SERVICES.iter().any(|s| method.starts_with(s)) {
            return Ok(Route::Many(targets));
        }
        return match <[_; 1]>::try_from(targets) {
            Ok([(_, target)]) => Ok(Route::One(target)),
            Err(_) => Err(Status::invalid_argument(format!(
                "{method} cannot be sent to several nodes at once; address one node per call \
                 (metadata '{NODE}' or a single entry in '{NODES}')"
            ))),
        };
    }
    match node.first() {
        Some(name) => Ok(Route::One(resolve(name)?.1)),
        None => Ok(Route::One(Target::Local)),
    }
}

/// Every value of metadata `key`, each split at commas, trimmed, empty entries dropped.
fn list(metadata: &MetadataMap, key: &str) -> Result<Vec<String>, Status> {
    let mut out = Vec::new();
    for value in metadata.get_all(key) {
        let text = value.to_str().map_err(|_| {
            Status::invalid_argument(format!("metadata '{key}' is not valid ASCII text"))
        })?;
        out.extend(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    Ok(out)
}

/// What target `name` means: local when it is one of `local_names` (exactly, or by host
/// when its port is apid's port), else a remote apid.
pub fn resolve(name: &str, local_names: &[String]) -> Result<Target, Status> {
    let addr = parse_addr(name)?;
    let local = local_names
        .iter()
        .any(|l| l == name || (addr.port == APID_PORT && l.trim_matches(['[', ']']) == addr.host));
    Ok(if local {
        Target::Local
    } else {
        Target::Remote(addr)
    })
}

/// Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
pub fn parse_addr(name: &str) -> Result<RemoteAddr, Status> {
    let invalid = |why: &str| {
        Status::invalid_argument(format!(
            "invalid node '{name}': {why}; write a host name or IP address, optionally with :port"
        ))
    };
    let (host, port) = if let Some(rest) = name.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| invalid("missing ']'"))?;
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| invalid("junk after ']'"))?,
                ),
            ),
        }
    } else if name.matches(':').count() == 1 {
        let (host, port) = name.split_once(':').ok_or_else(|| invalid("bad port"))?;
        (host, Some(port))
    } else {
        (name, None)
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(invalid("bad host"));
    }
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| invalid("bad port"))?,
        None => APID_PORT,
    };
    Ok(RemoteAddr {
        name: name.to_string(),
        host: host.to_string(),
        port,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tonic::Code;

    const VERSION: &str = "/machine.MachineService/Version";
    const COSI_GET: &str = "/cosi.resource.State/Get";

    fn md(pairs: &[(&'static str, &'static str)]) -> MetadataMap {
        let mut m = MetadataMap::new();
        for (k, v) in pairs {
            m.append(*k, v.parse().unwrap());
        }
        m
    }

    fn local() -> Vec<String> {
        vec!["10.5.0.2".into(), "node-a".into(), "fd00::2".into()]
    }

    fn remote(name: &str, host: &str, port: u16) -> Target {
        Target::Remote(RemoteAddr {
            name: name.into(),
            host: host.into(),
            port,
        })
    }

    #[test]
    fn no_header_or_proxyfrom_is_local() {
        let r = route(&md(&[]), VERSION, &local(), false).unwrap();
        assert_eq!(r, Route::One(Target::Local));
        let r = route(
            &md(&[
                ("proxyfrom", "node-b"),
                ("node", "10.5.0.9"),
                ("nodes", "a,b"),
            ]),
            VERSION,
            &local(),
            true,
        )
        .unwrap();
        assert_eq!(r, Route::One(Target::Local));
    }

    #[test]
    fn node_forwards_to_one_and_local_names_stay_local() {
        let r = route(&md(&[("node", "10.5.0.3")]), VERSION, &local(), false).unwrap();
        assert_eq!(r, Route::One(remote("10.5.0.3", "10.5.0.3", APID_PORT)));
        let r = route(&md(&[("node", "node-a")]), VERSION, &local(), false).unwrap();
        assert_eq!(r, Route::One(Target::Local));
        let err = route(
            &md(&[("node", "a"), ("node", "b")]),
            VERSION,
            &local(),
            false,
        );
        assert_eq!(err.unwrap_err().code(), Code::InvalidArgument);
    }

    #[test]
    fn nodes_fan_out_over_comma_separated_and_repeated_values() {
        let r = route(
            &md(&[
                ("nodes", "10.5.0.2, 10.5.0.3:50001"),
                ("nodes", "[fd00::4]"),
            ]),
            VERSION,
            &local(),
            false,
        )
        .unwrap();
        assert_eq!(
            r,
            Route::Many(vec![
                ("10.5.0.2".into(), Target::Local),
                (
                    "10.5.0.3:50001".into(),
                    remote("10.5.0.3:50001", "10.5.0.3", 50001)
                ),
                (
                    "[fd00::4]".into(),
                    remote("[fd00::4]", "fd00::4", APID_PORT)
                ),
            ])
        );
    }

    #[test]
    fn cosi_goes_to_one_node_only() {
        let r = route(&md(&[("nodes", "10.5.0.3")]), COSI_GET, &local(), false).unwrap();
        assert_eq!(r, Route::One(remote("10.5.0.3", "10.5.0.3", APID_PORT)));
        let err = route(&md(&[("nodes", "a,b")]), COSI_GET, &local(), false).unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
    }

    #[test]
    fn maintenance_refuses_forwarding_but_allows_naming_itself() {
        let err = route(&md(&[("node", "10.5.0.3")]), VERSION, &local(), true).unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err
            .message()
            .contains("forwarding is off in maintenance mode"));
        let err = route(
            &md(&[("nodes", "10.5.0.2,10.5.0.3")]),
            VERSION,
            &local(),
            true,
        );
        assert_eq!(err.unwrap_err().code(), Code::FailedPrecondition);
        let r = route(&md(&[("nodes", "10.5.0.2")]), VERSION, &local(), true).unwrap();
        assert_eq!(r, Route::Many(vec![("10.5.0.2".into(), Target::Local)]));
    }

    #[test]
    fn addresses_parse_in_every_form() {
        assert_eq!(parse_addr("h").unwrap().port, APID_PORT);
        let a = parse_addr("h.example:1234").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("h.example", 1234));
        let a = parse_addr("fd00::1").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("fd00::1", APID_PORT));
        let a = parse_addr("[fd00::1]:7").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("fd00::1", 7));
        for bad in ["", ":1", "h:x", "h:70000", "[fd00::1", "[fd00::1]x", "a b"] {
            assert!(parse_addr(bad).is_err(), "{bad}");
        }
        // A local host on another port is another apid (tests run several on one address).
        assert_eq!(resolve("10.5.0.2:50000", &local()).unwrap(), Target::Local);
        assert_eq!(resolve("[fd00::2]:50000", &local()).unwrap(), Target::Local);
        assert_eq!(
            resolve("10.5.0.2:50001", &local()).unwrap(),
            remote("10.5.0.2:50001", "10.5.0.2", 50001)
        );
        assert_eq!(
            resolve("127.0.0.1:7", &["127.0.0.1:7".into()]).unwrap(),
            Target::Local
        );
    }
}
