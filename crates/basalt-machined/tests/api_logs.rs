//! Logs and Dmesg over a real socket: tail, follow of a real process's output, machined's own
//! log, bad requests, and the kernel log device.
#![allow(clippy::unwrap_used)]

mod api_support;

use std::path::PathBuf;

use api_support::{sh, within, Node};
use basalt_api::common::{ContainerDriver, Data};
use basalt_api::machine::{DmesgRequest, LogsRequest};
use basalt_machined::api::MACHINED_LOG_ID;
use basalt_machined::logs::{LogLimits, LogStore};
use tonic::{Code, Streaming};

fn request(id: &str, tail_lines: i32, follow: bool) -> LogsRequest {
    LogsRequest {
        namespace: "system".into(),
        id: id.into(),
        driver: ContainerDriver::Containerd as i32,
        follow,
        tail_lines,
    }
}

/// Reads chunks until the collected text has `lines` lines.
async fn read_lines(stream: &mut Streaming<Data>, lines: usize) -> Vec<String> {
    let mut text = String::new();
    while text.lines().count() < lines {
        let chunk = within("log data", stream.message()).await.unwrap().unwrap();
        assert!(chunk.metadata.is_some());
        text.push_str(std::str::from_utf8(&chunk.bytes).unwrap());
    }
    text.lines().map(str::to_string).collect()
}

/// Every chunk of a stream that ends by itself.
async fn read_all(stream: &mut Streaming<Data>) -> String {
    let mut text = String::new();
    while let Some(chunk) = within("the stream to end", stream.message()).await.unwrap() {
        text.push_str(std::str::from_utf8(&chunk.bytes).unwrap());
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_and_follow_a_real_service() {
    let node = Node::start().await;
    let trigger = node.dir.path().join("go");
    let script = format!(
        "for i in 1 2 3 4 5; do echo line-$i; done; \
         while [ ! -e {0} ]; do sleep 0.05; done; echo late-line; exec sleep 1000",
        trigger.display()
    );
    node.supervisor.load(sh("talker", &script)).unwrap();
    node.supervisor.start("talker").await.unwrap();
    let mut client = node.machine();

    // Wait until the five lines are in, then tail 2 (no follow: the stream ends).
    within("five lines", async {
        loop {
            let mut all = client
                .logs(request("talker", -1, false))
                .await
                .unwrap()
                .into_inner();
            if read_all(&mut all).await.contains("line-5") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    let mut tail = client
        .logs(request("talker", 2, false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read_all(&mut tail).await, "line-4\nline-5\n");
    let mut none = client
        .logs(request("talker", 0, false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read_all(&mut none).await, "");

    // Follow: the last line, then a line the service prints later.
    let mut follow = client
        .logs(request("talker", 1, true))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read_lines(&mut follow, 1).await, ["line-5"]);
    std::fs::write(&trigger, b"").unwrap();
    assert_eq!(read_lines(&mut follow, 1).await, ["late-line"]);

    // Bad requests.
    let err = client.logs(request("nope", -1, false)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("talker"), "{}", err.message());
    let mut cri = request("talker", -1, false);
    cri.driver = ContainerDriver::Cri as i32;
    assert_eq!(
        client.logs(cri).await.unwrap_err().code(),
        Code::Unimplemented
    );
    let mut k8s = request("talker", -1, false);
    k8s.namespace = "k8s.io".into();
    assert_eq!(
        client.logs(k8s).await.unwrap_err().code(),
        Code::Unimplemented
    );

    // A followed stream ends when the API shuts down.
    node.shutdown.cancel();
    assert!(within("the follow to end", follow.message())
        .await
        .unwrap()
        .is_none());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machined_log_is_served_as_a_service() {
    let log = LogStore::new(LogLimits::default()).log(MACHINED_LOG_ID);
    log.push(b"machined starting");
    log.push(b"boot sequence done");
    let node = Node::start_with(|h| h.machined_log = Some(log.clone())).await;
    let mut stream = node
        .machine()
        .logs(request(MACHINED_LOG_ID, -1, false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        read_all(&mut stream).await,
        "machined starting\nboot sequence done\n"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dmesg_without_a_kernel_log_is_unavailable() {
    let node = Node::start_with(|h| h.kmsg_path = PathBuf::from("/nonexistent/kmsg")).await;
    let err = node
        .machine()
        .dmesg(DmesgRequest {
            follow: false,
            tail: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(
        err.message().contains("/nonexistent/kmsg"),
        "{}",
        err.message()
    );
    node.stop().await;
}

/// With the host's /dev/kmsg (tests run as root), a line written to it is read back; where the
/// device cannot be opened, the call must say so with UNAVAILABLE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dmesg_reads_the_kernel_log() {
    let node = Node::start().await;
    let marker = format!("basalt-api-test-{}", std::process::id());
    let readable = std::fs::File::open("/dev/kmsg").is_ok();
    let written = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/kmsg")
        .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{marker}\n").as_bytes()))
        .is_ok();
    let mut client = node.machine();
    let result = client
        .dmesg(DmesgRequest {
            follow: false,
            tail: false,
        })
        .await;
    if !readable {
        assert_eq!(result.unwrap_err().code(), Code::Unavailable);
        eprintln!("/dev/kmsg is not readable here: checked the UNAVAILABLE answer only");
        node.stop().await;
        return;
    }
    let text = read_all(&mut result.unwrap().into_inner()).await;
    if written {
        assert!(
            text.contains(&marker),
            "marker missing from {} bytes",
            text.len()
        );
        let line = text.lines().find(|l| l.contains(&marker)).unwrap();
        assert!(line.contains(": ["), "{line}");
    }
    // tail + follow: only new records, the next one being ours.
    if written {
        let mut follow = client
            .dmesg(DmesgRequest {
                follow: true,
                tail: true,
            })
            .await
            .unwrap()
            .into_inner();
        let again = format!("{marker}-followed");
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/kmsg")
            .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{again}\n").as_bytes()))
            .unwrap();
        within("the followed record", async {
            loop {
                let chunk = follow.message().await.unwrap().unwrap();
                if String::from_utf8_lossy(&chunk.bytes).contains(&again) {
                    break;
                }
            }
        })
        .await;
    }
    node.stop().await;
}
