//! Real gRPC round trips over a unix socket in a temp dir.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use basalt_api::machine::machine_service_client::MachineServiceClient;
use basalt_api::machine::LogsRequest;
use basalt_api::transport::connect_unix;
use futures::StreamExt;

const LONG: Duration = Duration::from_secs(20);

fn logs(id: &str, tail_lines: i32, follow: bool) -> LogsRequest {
    LogsRequest {
        id: id.into(),
        tail_lines,
        follow,
        ..Default::default()
    }
}

#[tokio::test]
async fn version_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("machine.sock");
    let server = support::start(&sock, Duration::from_secs(1)).await;

    let mut client = MachineServiceClient::new(connect_unix(&sock).await.unwrap());
    let reply = client.version(()).await.unwrap().into_inner();
    assert_eq!(reply.messages.len(), 1);
    let version = &reply.messages[0];
    assert_eq!(version.version.as_ref().unwrap().tag, "v0.1.0");
    assert_eq!(version.platform.as_ref().unwrap().mode, "container");
    assert!(version.features.as_ref().unwrap().rbac);

    // A method the server does not implement is a clean gRPC error.
    let err = client.hostname(()).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);

    server.stop.send(()).unwrap();
    tokio::time::timeout(LONG, server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(!sock.exists(), "the socket file is removed on shutdown");
}

#[tokio::test]
async fn logs_stream_with_tail() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("machine.sock");
    let server = support::start(&sock, Duration::from_secs(1)).await;
    let mut client = MachineServiceClient::new(connect_unix(&sock).await.unwrap());

    let stream = client
        .logs(logs(support::SERVICE, 2, false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(support::collect(stream).await, "line two\nline three\n");

    let stream = client
        .logs(logs(support::SERVICE, -1, false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(support::collect(stream).await, support::LOG_LINES.concat());

    let err = client.logs(logs("nope", -1, false)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert!(err.message().contains("nope"), "{}", err.message());

    server.stop.send(()).unwrap();
    tokio::time::timeout(LONG, server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn followed_stream_delivers_new_lines_and_does_not_block_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("machine.sock");
    let server = support::start(&sock, Duration::from_millis(200)).await;
    let mut client = MachineServiceClient::new(connect_unix(&sock).await.unwrap());

    let mut stream = client
        .logs(logs(support::SERVICE, 1, true))
        .await
        .unwrap()
        .into_inner();
    let first = tokio::time::timeout(LONG, stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.bytes, b"line three\n");
    let later = tokio::time::timeout(LONG, stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(later.bytes, b"line four\n");

    // The stream stays open forever; shutdown still returns after the grace period.
    server.stop.send(()).unwrap();
    tokio::time::timeout(LONG, server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(!sock.exists());
}

#[tokio::test]
async fn garbage_on_the_socket_does_not_stop_the_server() {
    use tokio::io::AsyncWriteExt;

    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("machine.sock");
    let server = support::start(&sock, Duration::from_secs(1)).await;

    for garbage in [&b"GET / HTTP/1.1\r\n\r\n"[..], &[0xff; 4096][..], b""] {
        let mut raw = tokio::net::UnixStream::connect(&sock).await.unwrap();
        raw.write_all(garbage).await.unwrap();
        drop(raw);
    }

    let mut client = MachineServiceClient::new(connect_unix(&sock).await.unwrap());
    client.version(()).await.unwrap();
    assert!(!server.task.is_finished());

    server.stop.send(()).unwrap();
    tokio::time::timeout(LONG, server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
