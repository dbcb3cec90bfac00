//! The remote tier's client against servers that answer the ways real ones do: CRLF
//! event framing, a last event without its blank line, 401, 429 with Retry-After, a
//! stream cut mid-answer, an empty answer, nothing listening, and a server that lists
//! another model id than the one it answers to (llama-server). The same client against a
//! real `bantam serve` is in tests/cli/tiers.rs.

use std::time::Duration;

use bantam_core::engine::{ChatMessage, Event, Sampling};
use bantam_core::tiers::{RemoteChat, RemoteEndpoint, RemoteErrorKind};
use bantam_core::Error;
use bantam_fetch::remote::{Checked, OpenAiRemote};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One canned HTTP response per request, whatever was asked; the head is sent, then the
/// body's pieces one by one (so events arrive split), then the connection closes.
async fn serve(responses: Vec<(String, Vec<&'static str>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for (head, pieces) in responses {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            read_request(&mut socket).await;
            let _ = socket.write_all(head.as_bytes()).await;
            for p in pieces {
                let _ = socket.write_all(p.as_bytes()).await;
                let _ = socket.flush().await;
            }
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{addr}/v1")
}

async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = socket.read(&mut buf).await else { return };
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return;
            }
        }
    }
}

fn stream_head() -> String {
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n".into()
}

fn json_head(status: &str, body: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
        body.len()
    )
}

fn remote(url: &str) -> OpenAiRemote {
    OpenAiRemote::new(RemoteEndpoint::new(url, "big-model").unwrap(), Some("sk-test".into())).unwrap()
}

/// The whole answer, or how it failed (before or after the first words).
async fn ask(url: &str) -> Result<(String, Result<String, Error>), Error> {
    let mut generation = remote(url)
        .chat(vec![ChatMessage::user("Hi")], Sampling::greedy(32))
        .await?;
    let mut streamed = String::new();
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(20), generation.next()).await {
            Ok(Some(Event::Token(t))) => streamed.push_str(&t),
            Ok(Some(Event::Done(c))) => break Ok(c.text),
            Ok(Some(Event::Failed(e))) => break Err(e),
            Ok(Some(Event::Started { .. } | Event::Logprobs(_))) => {}
            Ok(None) => panic!("the generation ended without Done or Failed"),
            Err(_) => panic!("no event within 20 s"),
        }
    };
    Ok((streamed, end))
}

fn kind(e: &Error) -> RemoteErrorKind {
    match e {
        Error::Remote(r) => r.kind,
        other => panic!("not a remote error: {other:?}"),
    }
}

const HELLO: &str = r#"data: {"choices":[{"delta":{"content":"Hello"},"finish_reason":null}]}"#;
const WORLD: &str = r#"data: {"choices":[{"delta":{"content":" world"},"finish_reason":null}]}"#;
const STOP: &str = r#"data: {"choices":[{"delta":{},"finish_reason":"stop"}]}"#;

#[tokio::test]
async fn crlf_framed_streams_lose_no_words() {
    let crlf = |s: &'static str| -> &'static str { Box::leak(format!("{s}\r\n\r\n").into_boxed_str()) };
    // CRLF everywhere, the pieces split inside an event and inside a line end.
    let url = serve(vec![(
        stream_head(),
        vec![
            crlf(HELLO),
            &WORLD[..20],
            &WORLD[20..],
            "\r",
            "\n\r\n",
            crlf(STOP),
            "data: [DONE]\r\n\r\n",
        ],
    )])
    .await;
    let (streamed, end) = ask(&url).await.unwrap();
    assert_eq!(streamed, "Hello world");
    assert_eq!(end.unwrap(), "Hello world");

    // A server that ends with a finish reason but neither [DONE] nor the last blank line.
    let url = serve(vec![(stream_head(), vec![crlf(HELLO), STOP])]).await;
    let (_, end) = ask(&url).await.unwrap();
    assert_eq!(end.unwrap(), "Hello");
}

#[tokio::test]
async fn each_failure_is_its_own_kind() {
    // Before any word: an error the router falls back on.
    let url = serve(vec![(
        json_head(
            "401 Unauthorized",
            r#"{"error":{"message":"bad key","type":"auth"}}"#,
            "",
        ),
        vec![],
    )])
    .await;
    let e = ask(&url).await.unwrap_err();
    assert_eq!(kind(&e), RemoteErrorKind::Auth);
    assert!(e.to_string().contains("refused the API key (HTTP 401): bad key"), "{e}");

    let url = serve(vec![(
        json_head(
            "429 Too Many Requests",
            r#"{"error":{"message":"slow down"}}"#,
            "retry-after: 7\r\n",
        ),
        vec![],
    )])
    .await;
    let Err(Error::Remote(limited)) = ask(&url).await else {
        panic!("429 is an error")
    };
    assert_eq!(limited.kind, RemoteErrorKind::RateLimited);
    assert_eq!(limited.retry_after, Some(Duration::from_secs(7)));

    let url = serve(vec![(json_head("503 Service Unavailable", "overloaded", ""), vec![])]).await;
    let e = ask(&url).await.unwrap_err();
    assert_eq!(kind(&e), RemoteErrorKind::Server);
    assert!(e.to_string().contains("overloaded"), "{e}");

    // Nothing but [DONE]: an empty answer is an error, never an empty message.
    let url = serve(vec![(stream_head(), vec!["data: [DONE]\n\n"])]).await;
    assert_eq!(kind(&ask(&url).await.unwrap_err()), RemoteErrorKind::EmptyAnswer);

    // Words, then the connection closes without a finish: cut off, not complete.
    let url = serve(vec![(stream_head(), vec!["data: ", &HELLO[6..], "\n\n"])]).await;
    let (streamed, end) = ask(&url).await.unwrap();
    assert_eq!(streamed, "Hello");
    assert_eq!(kind(&end.unwrap_err()), RemoteErrorKind::StreamBroken);

    // An error event mid-answer.
    let url = serve(vec![(
        stream_head(),
        vec![HELLO, "\n\n", r#"data: {"error":{"message":"upstream died"}}"#, "\n\n"],
    )])
    .await;
    let (_, end) = ask(&url).await.unwrap();
    let e = end.unwrap_err();
    assert_eq!(kind(&e), RemoteErrorKind::StreamBroken);
    assert!(e.to_string().contains("upstream died"), "{e}");

    // A stopped server.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let e = ask(&format!("http://127.0.0.1:{port}/v1")).await.unwrap_err();
    assert_eq!(kind(&e), RemoteErrorKind::Unreachable);
}

#[tokio::test]
async fn an_endpoint_that_lists_another_id_is_accepted_when_it_answers() {
    let listing = r#"{"object":"list","data":[{"id":"/models/qwen.gguf","object":"model"}]}"#;
    let answer = r#"{"choices":[{"message":{"role":"assistant","content":"H"},"finish_reason":"length"}]}"#;
    let url = serve(vec![
        (json_head("200 OK", listing, ""), vec![]),
        (json_head("200 OK", answer, ""), vec![]),
    ])
    .await;
    assert_eq!(
        remote(&url).check().await.unwrap(),
        Checked::AnsweredUnlisted {
            listed: vec!["/models/qwen.gguf".into()]
        }
    );
    // One that lists another id and refuses the name: the name is wrong.
    let refused = r#"{"error":{"message":"model big-model does not exist","code":"model_not_found"}}"#;
    let url = serve(vec![
        (json_head("200 OK", listing, ""), vec![]),
        (json_head("404 Not Found", refused, ""), vec![]),
    ])
    .await;
    let e = remote(&url).check().await.unwrap_err();
    assert_eq!(kind(&e), RemoteErrorKind::ModelNotFound);
    assert!(e.to_string().contains("it lists /models/qwen.gguf"), "{e}");
}
