//! The router across tiers with real processes: the remote tier is a second Bantam
//! (`bantam serve` on the test model, its own data dir, its key in a private keyring),
//! the workhorse a second real GGUF (the 0.5B) loaded when a request is routed to it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use bantam_tests::cli::{bantam, PrivateKeyring};
use bantam_tests::peers::Peer;
use bantam_tests::serve::Server;
use serde_json::{json, Value};

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

fn with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bantam runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// What the remote server answers to exactly these messages, greedily: the remote tier's
/// answer must be the same if the messages arrived as expected.
fn direct_answer(server: &Server, model: &str, messages: Value, max_tokens: u32) -> String {
    let body =
        json!({"model": model, "messages": messages, "temperature": 0.0, "top_p": 0.95, "max_tokens": max_tokens});
    let (out, status) = server.curl(&[
        "-H",
        &format!("Authorization: Bearer {}", server.token),
        "-H",
        "Content-Type: application/json",
        "-d",
        &body.to_string(),
        &format!("{}/chat/completions", server.url),
    ]);
    assert_eq!(status, "200", "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["choices"][0]["message"]["content"].as_str().unwrap().to_string()
}

#[test]
fn escalated_chats_reach_the_remote_tier_with_their_messages_and_fall_back_when_it_is_down() {
    let model = bantam_testkit::test_model();
    let mut remote = Server::start(&model, 1);
    let keyring = PrivateKeyring::start();
    let data = tempfile::tempdir().unwrap();
    // The name the second Bantam serves it under (its file's stem).
    let served = model.file_stem().unwrap().to_str().unwrap().to_string();
    let cmd = |args: &[&str]| {
        let mut c = bantam(data.path());
        c.env("BANTAM_MODEL", &model)
            .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
            .env_remove("BANTAM_REMOTE_API_KEY")
            .args(args);
        c
    };

    // A wrong key is refused when the endpoint is checked; nothing is saved.
    let wrong = with_stdin(
        cmd(&[
            "tiers",
            "remote",
            "--url",
            &remote.url,
            "--remote-model",
            &served,
            "--key-stdin",
        ]),
        "bnt-0000\n",
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("401"), "{wrong:?}");
    let shown = json_of(&ok(cmd(&["tiers", "show", "--json"]).output().unwrap()));
    assert!(shown["remote"].is_null(), "{shown}");
    // A name the endpoint does not list but answers to (Bantam's API, like llama-server,
    // answers any name no model here has with the loaded one): saved, with a note.
    let unlisted = with_stdin(
        cmd(&[
            "tiers",
            "remote",
            "--url",
            &remote.url,
            "--remote-model",
            "smol",
            "--key-stdin",
        ]),
        &format!("{}\n", remote.token),
    );
    let note = String::from_utf8_lossy(&unlisted.stderr).to_string();
    assert!(unlisted.status.success(), "{note}");
    assert!(
        note.contains("does not list \"smol\"") && note.contains(&served) && note.contains("answered"),
        "{note}"
    );

    ok(with_stdin(
        cmd(&[
            "tiers",
            "remote",
            "--url",
            &remote.url,
            "--remote-model",
            &served,
            "--key-stdin",
        ]),
        &format!("{}\n", remote.token),
    ));
    let shown = json_of(&ok(cmd(&["tiers", "show", "--json"]).output().unwrap()));
    assert_eq!(shown["remote"]["base_url"], remote.url.as_str());
    assert_eq!(shown["remote_key"], "set", "the key is in the keyring");
    for entry in std::fs::read_dir(data.path()).unwrap().flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&remote.token),
                "the key is in {}",
                entry.path().display()
            );
        }
    }

    // Pinned to remote: the system prompt and the question arrive as they are.
    let system = "You are terse.";
    let first = json_of(&ok(cmd(&[
        "chat",
        "--tier",
        "remote",
        "--temperature",
        "0",
        "--max-tokens",
        "24",
        "--system",
        system,
        "-p",
        "Name a colour.",
        "--json",
    ])
    .output()
    .unwrap()));
    assert_eq!(first["route"]["tier"], "remote", "{first}");
    assert_eq!(first["route"]["by"], "user");
    assert!(first["model"].as_str().unwrap().contains("@ 127.0.0.1"), "{first}");
    let text = first["text"].as_str().unwrap().to_string();
    assert!(!text.trim().is_empty());
    let messages = json!([{"role": "system", "content": system}, {"role": "user", "content": "Name a colour."}]);
    assert_eq!(text, direct_answer(&remote, &served, messages.clone(), 24));

    // The next turn brings the history along.
    let id = first["conversation_id"].as_i64().unwrap().to_string();
    let second = json_of(&ok(cmd(&[
        "chat",
        "--conversation",
        &id,
        "--tier",
        "remote",
        "--temperature",
        "0",
        "--max-tokens",
        "24",
        "-p",
        "And another one?",
        "--json",
    ])
    .output()
    .unwrap()));
    let mut history = messages.as_array().unwrap().clone();
    history.push(json!({"role": "assistant", "content": text}));
    history.push(json!({"role": "user", "content": "And another one?"}));
    assert_eq!(
        second["text"],
        direct_answer(&remote, &served, Value::Array(history), 24).as_str()
    );

    // The router escalates code by its signal (no workhorse: the remote tier is next).
    let code = json_of(&ok(cmd(&[
        "chat",
        "--max-tokens",
        "16",
        "-p",
        "Write a Python function that reverses a string",
        "--json",
    ])
    .output()
    .unwrap()));
    assert_eq!(code["route"]["tier"], "remote", "{code}");
    assert_eq!(code["route"]["by"], "signal");
    assert_eq!(code["route"]["reason"], "code");

    // Chat placed on the remote tier: a new conversation starts there without --tier.
    // Mail stays on this machine: refused, with why, and nothing changes.
    ok(cmd(&["tiers", "task", "chat", "remote"]).output().unwrap());
    let mail = cmd(&["tiers", "task", "triage", "remote"]).output().unwrap();
    assert!(!mail.status.success());
    assert!(
        String::from_utf8_lossy(&mail.stderr).contains("stay on this machine"),
        "{mail:?}"
    );
    let shown = json_of(&ok(cmd(&["tiers", "show", "--json"]).output().unwrap()));
    assert_eq!(shown["tasks"]["chat"], "remote", "{shown}");
    assert_eq!(shown["tasks"]["triage"], "small", "{shown}");
    let placed = json_of(&ok(cmd(&["chat", "--max-tokens", "8", "-p", "Hi there.", "--json"])
        .output()
        .unwrap()));
    assert_eq!(placed["route"]["tier"], "remote", "{placed}");
    assert_eq!(placed["route"]["by"], "user", "{placed}");
    ok(cmd(&["tiers", "task", "chat", "auto"]).output().unwrap());

    // Decisions are stored with the answers.
    let shown = json_of(&ok(cmd(&["history", "show", &id, "--json"]).output().unwrap()));
    let answers: Vec<&Value> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .collect();
    assert_eq!(answers.len(), 2, "{shown}");
    for a in answers {
        assert_eq!(a["route"]["tier"], "remote", "{a}");
        assert_eq!(a["route"]["reason"], "you chose remote");
    }
    assert!(
        remote.log().contains("POST /v1/chat/completions 200"),
        "{}",
        remote.log()
    );

    // Down: the small model answers at once, and says why.
    remote.stop();
    let started = std::time::Instant::now();
    let out = ok(cmd(&[
        "chat",
        "--tier",
        "remote",
        "--max-tokens",
        "8",
        "-p",
        "Hi there, how are you?",
        "--json",
    ])
    .output()
    .unwrap());
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let down = json_of(&out);
    assert_eq!(down["route"]["tier"], "small", "{down}");
    assert_eq!(down["route"]["wanted"], "remote");
    let note = down["route"]["note"].as_str().unwrap();
    assert!(
        note.contains("the remote tier: cannot reach the endpoint") && note.ends_with("answered by small"),
        "{note}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(note),
        "the note is shown before the answer"
    );
}

#[test]
fn the_workhorse_loads_for_what_is_routed_to_it_and_a_missing_one_falls_back() {
    let model = bantam_testkit::test_model();
    let data = tempfile::tempdir().unwrap();
    let cmd = |args: &[&str]| {
        let mut c = bantam(data.path());
        c.env("BANTAM_MODEL", &model).args(args);
        c
    };
    let refused = cmd(&["tiers", "workhorse", "/nowhere/model.gguf"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("/nowhere/model.gguf"),
        "{refused:?}"
    );

    // Its file gone since: the small model answers, with the reason.
    let copy = data.path().join("workhorse.gguf");
    std::fs::copy(&model, &copy).unwrap();
    ok(cmd(&["tiers", "workhorse", copy.to_str().unwrap()]).output().unwrap());
    std::fs::remove_file(&copy).unwrap();
    let fell = json_of(&ok(cmd(&[
        "chat",
        "--tier",
        "workhorse",
        "--max-tokens",
        "4",
        "-p",
        "Hi",
        "--json",
    ])
    .output()
    .unwrap()));
    assert_eq!(fell["route"]["tier"], "small", "{fell}");
    assert_eq!(fell["route"]["wanted"], "workhorse");
    assert!(fell["route"]["note"].as_str().unwrap().contains("missing"), "{fell}");
    let small_model = fell["model"].as_str().unwrap().to_string();

    // A real bigger model: loaded on demand, it answers what is pinned to it.
    let bigger = bantam_testkit::real_model("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
    ok(cmd(&["tiers", "workhorse", bigger.to_str().unwrap()]).output().unwrap());
    let pinned = json_of(&ok(cmd(&[
        "chat",
        "--tier",
        "workhorse",
        "--max-tokens",
        "8",
        "-p",
        "Say hello.",
        "--json",
    ])
    .output()
    .unwrap()));
    assert_eq!(pinned["route"]["tier"], "workhorse", "{pinned}");
    assert!(pinned["route"]["wanted"].is_null());
    assert_ne!(pinned["model"].as_str().unwrap(), small_model);
    assert!(!pinned["text"].as_str().unwrap().trim().is_empty());

    // Auto with no signal: the small model decides, and the decision says so.
    let auto = json_of(&ok(cmd(&[
        "chat",
        "--max-tokens",
        "8",
        "-p",
        "What is the capital of France?",
        "--json",
    ])
    .output()
    .unwrap()));
    let route = &auto["route"];
    assert_eq!(route["by"], "model", "{auto}");
    let score = route["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score), "{route}");
    assert!(route["decision_ms"].as_f64().unwrap() > 0.0);
    let tier = route["tier"].as_str().unwrap();
    assert_eq!(
        tier == "workhorse",
        score > 0.5,
        "the threshold cuts the score: {route}"
    );
    assert!(
        bantam_core::router::judge::REASONS.contains(&route["reason"].as_str().unwrap()),
        "{route}"
    );
}

#[test]
fn the_router_bench_and_eval_run_on_the_test_model() {
    let model = bantam_testkit::test_model();
    let data = tempfile::tempdir().unwrap();
    let items = bantam_tests::repo().join("eval/router/items.jsonl");
    let items = items.to_str().unwrap();
    let bench = json_of(&ok(bantam(data.path())
        .arg("--model")
        .arg(&model)
        .args(["bench", "router", "--items", items, "--limit", "3", "--json"])
        .output()
        .unwrap()));
    assert_eq!(bench["decisions"], 3, "{bench}");
    let p50 = bench["p50_ms"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= bench["p95_ms"].as_f64().unwrap(), "{bench}");

    // The same small model on both sides: always-small and always-big must agree.
    let eval = json_of(&ok(bantam(data.path())
        .arg("--model")
        .arg(&model)
        .args(["eval", "router", items, "--big"])
        .arg(&model)
        .args(["--limit", "4", "--json"])
        .output()
        .unwrap()));
    assert_eq!(eval["items"], 4, "{eval}");
    assert_eq!(eval["small_accuracy"], eval["big_accuracy"]);
    let names: Vec<&str> = eval["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["router"].as_str().unwrap())
        .collect();
    for want in [
        "always small",
        "always big",
        "oracle",
        "router (threshold 0.5)",
        "random (expected)",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
}

/// `bantam` on the test model with its own data dir and keyring, for the peers' tests.
struct Client {
    data: tempfile::TempDir,
    keyring: PrivateKeyring,
    model: std::path::PathBuf,
}

impl Client {
    fn new() -> Self {
        Self {
            data: tempfile::tempdir().unwrap(),
            keyring: PrivateKeyring::start(),
            model: bantam_testkit::test_model(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = bantam(self.data.path());
        c.env("BANTAM_MODEL", &self.model)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.keyring.address)
            .env_remove("BANTAM_REMOTE_API_KEY")
            .args(args);
        c
    }

    fn set_remote(&self, url: &str, name: &str, key: &str) -> Output {
        let args = ["tiers", "remote", "--url", url, "--remote-model", name, "--key-stdin"];
        with_stdin(self.cmd(&args), &format!("{key}\n"))
    }

    fn ask_remote(&self, question: &str, max_tokens: u32) -> Output {
        let tokens = max_tokens.to_string();
        let args = [
            "chat",
            "--tier",
            "remote",
            "--temperature",
            "0",
            "--max-tokens",
            &tokens,
            "--system",
            "You are terse.",
            "-p",
            question,
            "--json",
        ];
        self.cmd(&args).output().unwrap()
    }
}

#[test]
fn llama_server_as_the_remote_tier_answers_in_full() {
    let client = Client::new();
    let mut server = Peer::llama_server(&client.model, "sk-llama-test");

    let wrong = client.set_remote(&server.url, "smol", "sk-wrong");
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("401"), "{wrong:?}");

    // llama-server lists its model file's path and answers to any name: saved, with a note.
    let saved = ok(client.set_remote(&server.url, "smol", "sk-llama-test"));
    let note = String::from_utf8_lossy(&saved.stderr);
    assert!(
        note.contains("does not list \"smol\"") && note.contains("answered"),
        "{note}"
    );

    // Streamed through the remote tier, the answer is every word llama-server gives when
    // asked the same directly (greedy, not streamed).
    let question = "Name three colours of the rainbow.";
    let answer = json_of(&ok(client.ask_remote(question, 48)));
    assert_eq!(answer["route"]["tier"], "remote", "{answer}");
    let body = json!({
        "model": "smol",
        "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": question}],
        "temperature": 0.0, "top_p": 0.95, "max_tokens": 48,
    });
    let direct = Command::new("curl")
        .args(["-sS", "--max-time", "120", "-H", "Authorization: Bearer sk-llama-test"])
        .args(["-H", "Content-Type: application/json", "-d", &body.to_string()])
        .arg(format!("{}/chat/completions", server.url))
        .output()
        .unwrap();
    let direct: Value = serde_json::from_slice(&direct.stdout).unwrap();
    let words = direct["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!words.trim().is_empty(), "{direct}");
    assert_eq!(answer["text"], words, "{}", server.log());

    // Gone: the small model answers, and says why.
    server.stop();
    let down = json_of(&ok(client.ask_remote("Hi there.", 8)));
    assert_eq!(down["route"]["tier"], "small", "{down}");
    let note = down["route"]["note"].as_str().unwrap();
    assert!(note.contains("cannot reach the endpoint"), "{note}");
}

#[test]
fn a_crlf_framed_server_on_another_stack_loses_no_words_and_a_cut_answer_is_an_error() {
    let client = Client::new();
    let mut server = Peer::starlette("sk-relay");
    ok(client.set_remote(&server.url, "relay-1", "sk-relay"));

    // CRLF line ends, `id:` lines and `: ping` comments between the events: every word.
    let question = "Tell me, in a sentence or two, what the weather is like in Lisbon in spring.";
    let answer = json_of(&ok(client.ask_remote(question, 200)));
    assert_eq!(answer["route"]["tier"], "remote", "{answer}");
    assert_eq!(answer["text"], format!("You said: {question}"), "{}", server.log());

    // Cut off mid-answer: an error that says so, and no half answer kept as if whole.
    let cut = client.ask_remote("Please [cut] this answer off halfway through, thanks.", 200);
    let said = String::from_utf8_lossy(&cut.stderr).to_string();
    assert!(!cut.status.success(), "{said}");
    assert!(said.contains("cut off"), "{said}");
    let conversations = json_of(&ok(client.cmd(&["history", "list", "--json"]).output().unwrap()));
    for c in conversations.as_array().unwrap() {
        let id = c["id"].as_i64().unwrap().to_string();
        let shown = json_of(&ok(client.cmd(&["history", "show", &id, "--json"]).output().unwrap()));
        let kept_half = shown["messages"].as_array().unwrap().iter().any(|m| {
            m["role"] == "assistant" && m["content"].as_str().is_some_and(|t| t.starts_with("You said: Please"))
        });
        assert!(!kept_half, "{shown}");
    }

    server.stop();
    let down = json_of(&ok(client.ask_remote("Hi there.", 8)));
    assert_eq!(down["route"]["tier"], "small", "{down}");
}
