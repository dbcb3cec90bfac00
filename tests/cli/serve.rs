//! `bantam serve` on the real Qwen2.5-Coder-0.5B, driven by real clients: the official
//! `openai` Python package (tests/api/openai_client.py) and curl.

use std::process::Command;

use bantam_tests::cli::bantam;
use bantam_tests::serve::{read_log, Server};

/// The model the API is tested on: a real instruct model that knows the tool-call format.
fn api_model() -> std::path::PathBuf {
    bantam_testkit::real_model("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
}

#[test]
fn the_official_openai_client_gets_what_it_expects() {
    let server = Server::start(&api_model(), 4);
    let script = bantam_tests::repo().join("tests/api/openai_client.py");
    let out = Command::new(bantam_testkit::openai_python())
        .arg(&script)
        .env("BANTAM_API_URL", &server.url)
        .env("BANTAM_API_TOKEN", &server.token)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        read_log(server.data.path())
    );
    assert!(report.contains("ok    check_forced_tool_call"), "{report}");
    // Each request is logged with its status.
    assert!(read_log(server.data.path()).contains("POST /v1/chat/completions 200"));
}

#[test]
fn curl_streams_and_is_refused_without_the_token() {
    let server = Server::start(&api_model(), 4);
    let chat = format!("{}/chat/completions", server.url);
    let auth = format!("Authorization: Bearer {}", server.token);
    let body =
        r#"{"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 8, "temperature": 0, "stream": true}"#;
    let (sse, status) = server.curl(&["-H", &auth, "-H", "Content-Type: application/json", "-d", body, &chat]);
    assert_eq!(status, "200", "{sse}");
    let events: Vec<&str> = sse.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
    assert_eq!(events.last(), Some(&"[DONE]"), "{sse}");
    let first: serde_json::Value = serde_json::from_str(events[0]).expect("a JSON chunk");
    assert_eq!(first["object"], "chat.completion.chunk");
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");

    let (refused, status) = server.curl(&["-d", body, &chat]);
    assert_eq!(status, "401", "{refused}");
    let error: serde_json::Value = serde_json::from_str(&refused).expect("an OpenAI error");
    assert_eq!(error["error"]["code"], "invalid_api_key");
    let (_, status) = server.curl(&["-H", "Authorization: Bearer bnt-0000000000000000", "-d", body, &chat]);
    assert_eq!(status, "401");
    let (bad, status) = server.curl(&["-H", &auth, "-d", r#"{"messages": "hi"}"#, &chat]);
    assert_eq!(status, "400", "{bad}");
    assert!(bad.contains("\"param\":\"messages\""), "{bad}");
    let (_, status) = server.curl(&["-H", &auth, &format!("{}/nowhere", server.url)]);
    assert_eq!(status, "404");

    // The token is the one in the data directory, private to the user, and printable.
    let shown = bantam(server.data.path())
        .args(["serve", "--show-token"])
        .output()
        .expect("show-token");
    assert_eq!(String::from_utf8_lossy(&shown.stdout).trim(), server.token);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(server.data.path().join("api-token"))
            .expect("token file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Another address than loopback only when asked for.
    let open = bantam(server.data.path())
        .args(["serve", "--host", "0.0.0.0", "--port", "0"])
        .output()
        .expect("serve on 0.0.0.0");
    assert!(!open.status.success());
    assert!(String::from_utf8_lossy(&open.stderr).contains("--allow-remote"));
}
