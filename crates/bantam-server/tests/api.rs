//! The API in process on the test model, over raw HTTP/1.1 where what is checked sits
//! below what a client library shows: a client that hangs up mid-answer, a body over the
//! limit, no model loaded. (Real clients are in tests/cli/serve.rs.)

use std::time::{Duration, Instant};

use bantam_core::{Engine, EngineConfig};
use bantam_server::{ApiConfig, ApiState, EngineSource};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "bnt-test-token-0123456789";

async fn engine() -> Engine {
    Engine::start(EngineConfig {
        context_size: 1024,
        parallel: 2,
        threads: Some(bantam_testkit::test_threads()),
        ..EngineConfig::new(bantam_testkit::test_model())
    })
    .await
    .expect("the test model loads")
}

/// Serves `source` on a free loopback port with a 64 KiB body limit.
async fn serve(source: impl EngineSource) -> std::net::SocketAddr {
    let config = ApiConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        body_limit: 64 * 1024,
        ..ApiConfig::default()
    };
    let listener = bantam_server::bind(&config).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = ApiState::new(source, TOKEN.to_string(), None);
    tokio::spawn(async move { bantam_server::serve(listener, state, &config, std::future::pending()).await });
    addr
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Sends a request and reads the whole response.
async fn exchange(addr: std::net::SocketAddr, request: &str) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw);
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_hangs_up_frees_its_slot_streamed_or_not() {
    let engine = engine().await;
    let addr = serve(engine.clone()).await;
    let long = r#"{"messages": [{"role": "user", "content": "Write a long story about the sea."}], "max_tokens": 900, "temperature": 0, "stream": STREAM}"#;
    for stream in ["false", "true"] {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(post("/v1/chat/completions", &long.replace("STREAM", stream)).as_bytes())
            .await
            .expect("write");
        let deadline = Instant::now() + Duration::from_secs(30);
        while engine.load().active == 0 {
            assert!(Instant::now() < deadline, "the request never started");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(s);
        let deadline = Instant::now() + Duration::from_secs(5);
        while engine.load().active != 0 {
            assert!(
                Instant::now() < deadline,
                "stream={stream}: the slot stayed busy after the client left"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_and_failures_are_openai_errors() {
    let addr = serve(engine().await).await;
    let big = format!(
        r#"{{"messages": [{{"role": "user", "content": "{}"}}]}}"#,
        "x".repeat(70 * 1024)
    );
    let (status, body) = exchange(addr, &post("/v1/chat/completions", &big)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let (status, body) = exchange(addr, &post("/v1/chat/completions", r#"{"messages": []}"#)).await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("messages")),
        "{body}"
    );

    // A prompt longer than the context is refused with OpenAI's code, not streamed.
    let huge = format!(
        r#"{{"messages": [{{"role": "user", "content": "{}"}}], "stream": true}}"#,
        "word ".repeat(3000)
    );
    let (status, body) = exchange(addr, &post("/v1/chat/completions", &huge)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "context_length_exceeded");

    let schema = r#"{"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}}}"#;
    let (status, body) = exchange(addr, &post("/v1/chat/completions", schema)).await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("response_format")),
        "{body}"
    );
}

struct Unloaded;

impl EngineSource for Unloaded {
    fn engine(&self) -> futures_util::future::BoxFuture<'_, Option<Engine>> {
        Box::pin(std::future::ready(None))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_model_loaded_is_a_503_that_says_so() {
    let addr = serve(Unloaded).await;
    let (status, body) = exchange(
        addr,
        &post(
            "/v1/chat/completions",
            r#"{"messages": [{"role": "user", "content": "hi"}]}"#,
        ),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("no model is loaded"));
}
