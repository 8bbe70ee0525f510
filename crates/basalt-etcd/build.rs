//! Compiles the etcd v3 API subset in `api/etcd/` (etcd's own names and field numbers)
//! into prost messages and tonic clients. Uses `protox` (pure Rust), so no `protoc`.

use std::path::PathBuf;

const PROTOS: &[&str] = &["etcd/kv.proto", "etcd/rpc.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let api_dir = manifest_dir.join("../../api");
    println!("cargo:rerun-if-changed={}", api_dir.join("etcd").display());
    let files = protox::compile(PROTOS, [&api_dir])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .compile_fds(files)?;
    Ok(())
}
