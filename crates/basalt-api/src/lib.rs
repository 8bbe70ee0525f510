//! The Basalt API: protobuf messages and gRPC clients/servers generated from the
//! `.proto` files in the repository's `api/` folder, plus the unix-socket transport
//! of the local machine API.
//!
//! The wire format is Talos's: package `machine` (service `MachineService`),
//! package `common`, and COSI's `cosi.resource` (service `State`), with Talos's
//! message names and field numbers, so Talos clients can talk to Basalt for every
//! RPC Basalt serves. See `api/README.md` for where each shape comes from.
//!
//! Streaming RPCs return `common::Data` chunks (logs, dmesg) or `machine::Event`s,
//! whose payload is a `prost_types::Any` built with `prost_types::Any::from_msg`
//! (type URL `talos/runtime/machine.<Message>`, as Talos publishes them).
//!
//! Generated modules are exempt from our lints: they follow the proto files.

pub mod transport;

/// Google's shared API messages (only `google.rpc.Status`, used by `common.Metadata`).
pub mod google {
    /// Package `google.rpc`.
    #[allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod rpc {
        include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
    }
}

/// Package `common`: reply metadata, raw data chunks, errors.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod common {
    include!(concat!(env!("OUT_DIR"), "/common.rs"));
}

/// Package `machine`: `MachineService` (client in `machine_service_client`,
/// server trait and wrapper in `machine_service_server`) and its messages.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod machine {
    include!(concat!(env!("OUT_DIR"), "/machine.rs"));
}

/// Package `securityapi`: trustd's `SecurityService` (`Certificate`: a CSR signed by
/// the OS CA for a node that presents `machine.token`).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod securityapi {
    include!(concat!(env!("OUT_DIR"), "/securityapi.rs"));
}

/// Package `cluster`: `ClusterService` (`HealthCheck`, run by a control-plane node).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod cluster {
    include!(concat!(env!("OUT_DIR"), "/cluster.rs"));
}

/// COSI resources.
pub mod cosi {
    /// Package `cosi.resource`: the `State` service (Get, List, Watch) and resources
    /// on the wire. Read the notes at the top of `api/cosi/state.proto` before
    /// serving it.
    #[allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod resource {
        include!(concat!(env!("OUT_DIR"), "/cosi.resource.rs"));

        /// Package `cosi.resource.meta`: specs of the `meta` namespace resources.
        pub mod meta {
            include!(concat!(env!("OUT_DIR"), "/cosi.resource.meta.rs"));
        }
    }

    /// The namespace holding resource definitions.
    pub const META_NAMESPACE: &str = "meta";

    /// The type of resource definitions; their `Spec.proto_spec` is an encoded
    /// [`resource::meta::ResourceDefinitionSpec`].
    pub const RESOURCE_DEFINITION_TYPE: &str = "ResourceDefinitions.meta.cosi.dev";

    /// `Metadata.phase` of a live resource.
    pub const PHASE_RUNNING: &str = "running";

    /// `Metadata.phase` of a resource being torn down.
    pub const PHASE_TEARING_DOWN: &str = "tearingDown";
}
