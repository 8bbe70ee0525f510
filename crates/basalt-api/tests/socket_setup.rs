//! Socket file handling of `serve_unix` and the errors of `connect_unix`.
#![allow(clippy::unwrap_used)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::transport::{connect_unix, serve_unix, TransportError};

const LONG: Duration = Duration::from_secs(20);

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn empty_router() -> tonic::transport::server::Router {
    tonic::transport::Server::builder().add_service(
        basalt_api::machine::machine_service_server::MachineServiceServer::new(
            support::TestMachine,
        ),
    )
}

#[tokio::test]
async fn creates_private_parent_and_socket() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("run").join("machined");
    let sock = parent.join("machine.sock");
    let server = support::start(&sock, Duration::from_secs(1)).await;
    // Once a call succeeded, the server finished its setup.
    let mut client = MachineServiceClient::new(connect_unix(&sock).await.unwrap());
    client.version(()).await.unwrap();

    assert_eq!(mode(&parent), 0o700);
    assert_eq!(mode(&dir.path().join("run")), 0o700);
    assert_eq!(mode(&sock), 0o600);

    // A second server on the same live socket is refused, and the first keeps working.
    let err = serve_unix(&sock, empty_router(), async {})
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::InUse { .. }), "{err}");
    assert!(
        err.to_string().contains(&sock.display().to_string()),
        "{err}"
    );
    client.version(()).await.unwrap();

    server.stop.send(()).unwrap();
    tokio::time::timeout(LONG, server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn replaces_a_stale_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("machine.sock");
    // A socket file nobody listens on, as a crashed machined leaves behind.
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());

    let server = support::start(&sock, Duration::from_secs(1)).await;
    let mut client = MachineServiceClient::new(connect_unix(&sock).await.unwrap());
    client.version(()).await.unwrap();

    server.stop.send(()).unwrap();
    tokio::time::timeout(LONG, server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn refuses_to_replace_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("machine.sock");
    std::fs::write(&path, "keep me").unwrap();

    let err = serve_unix(&path, empty_router(), async {})
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::NotASocket { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
}

#[tokio::test]
async fn connect_to_missing_socket_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("absent.sock");

    let err = connect_unix(&sock).await.unwrap_err();
    assert!(matches!(err, TransportError::Missing { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&sock.display().to_string()), "{msg}");
    assert!(msg.contains("does not exist"), "{msg}");
}

#[tokio::test]
async fn connect_to_dead_socket_says_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());

    let err = connect_unix(&sock).await.unwrap_err();
    assert!(matches!(err, TransportError::Refused { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&sock.display().to_string()), "{msg}");
    assert!(msg.contains("refused"), "{msg}");
}
