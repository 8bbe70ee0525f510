//! Compiles the Talos-compatible `.proto` files of `api/` into prost messages and
//! tonic clients and servers. Uses `protox` (pure Rust), so no `protoc` is needed.

use std::path::PathBuf;

/// Every proto file, relative to the `api/` include root.
const PROTOS: &[&str] = &[
    "google/rpc/status.proto",
    "common/common.proto",
    "machine/machine.proto",
    "cosi/resource.proto",
    "cosi/meta.proto",
    "cosi/state.proto",
    "security/security.proto",
    "cluster/cluster.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let api_dir = manifest_dir.join("../../api");
    println!("cargo:rerun-if-changed={}", api_dir.display());

    let files = protox::compile(PROTOS, [&api_dir])?;

    let mut config = tonic_prost_build::Config::new();
    // `prost::Name` impls let `prost_types::Any::from_msg` build event payloads.
    // Talos names machine event payloads "talos/runtime/machine.<Message>".
    config.enable_type_names();
    config.type_name_domain(["."], "type.googleapis.com");
    config.type_name_domain([".machine"], "talos/runtime");
    // Deterministic encoding of label and annotation maps.
    config.btree_map(["."]);

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds_with_config(files, config)?;
    Ok(())
}
