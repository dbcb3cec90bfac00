//! The real `bantam` binary on the real test model, each test in its own data directory.

use bantam_tests::cli as common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use bantam_testkit::test_model;
use common::bantam;
use serde_json::Value;

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("bantam runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(&o),
        stderr(&o)
    );
    o
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn one_shot_chat_is_stored_searchable_and_continuable() {
    let dir = tempfile::tempdir().unwrap();
    let model = test_model();
    let data = dir.path();

    let answer = ok(run(bantam(data)
        .args(["chat", "--temperature", "0", "--max-tokens", "40", "-p"])
        .arg("What is the capital of France?")
        .arg("--model")
        .arg(&model)));
    let text = stdout(&answer);
    assert!(!text.trim().is_empty(), "no answer streamed");
    // llama.cpp's own log lines must not reach the user's terminal.
    assert!(
        !stderr(&answer).contains("llama_"),
        "llama.cpp logs on stderr: {}",
        stderr(&answer)
    );

    let found = ok(run(bantam(data).args(["history", "search", "capital"])));
    assert!(
        stdout(&found).contains("[capital]"),
        "search output: {}",
        stdout(&found)
    );

    let list = json(&ok(run(bantam(data).args(["history", "list", "--json"]))));
    let conversations = list.as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    let id = conversations[0]["id"].as_i64().unwrap();
    assert_eq!(conversations[0]["message_count"], 2);

    let shown = json(&ok(run(bantam(data).args([
        "history",
        "show",
        &id.to_string(),
        "--json",
    ]))));
    let messages = shown["messages"].as_array().unwrap();
    assert_eq!(messages[0]["content"], "What is the capital of France?");
    assert_eq!(messages[1]["content"].as_str().unwrap().trim(), text.trim());

    // Continue it (a new process, so the whole history is prefilled): the answer lands in
    // the same conversation.
    let next = json(&ok(run(bantam(data)
        .args([
            "chat",
            "--json",
            "--temperature",
            "0",
            "--max-tokens",
            "16",
            "--conversation",
            &id.to_string(),
        ])
        .args(["-p", "And of Italy?"])
        .arg("--model")
        .arg(&model))));
    assert_eq!(next["conversation_id"].as_i64(), Some(id));
    assert!(next["usage"]["prompt_tokens"].as_u64().unwrap() > next["usage"]["generated_tokens"].as_u64().unwrap());
    assert!(next["timings"]["tokens_per_s"].as_f64().unwrap() > 0.0);
    let shown = json(&ok(run(bantam(data).args([
        "history",
        "show",
        &id.to_string(),
        "--json",
    ]))));
    assert_eq!(shown["messages"].as_array().unwrap().len(), 4);

    ok(run(bantam(data).args([
        "history",
        "rename",
        &id.to_string(),
        "Capitals",
    ])));
    let list = json(&ok(run(bantam(data).args(["history", "list", "--json"]))));
    assert_eq!(list[0]["title"], "Capitals");
    ok(run(bantam(data).args(["history", "delete", &id.to_string()])));
    let list = json(&ok(run(bantam(data).args(["history", "list", "--json"]))));
    assert_eq!(list.as_array().unwrap().len(), 0);
    let missing = run(bantam(data).args(["history", "search", "capital"]));
    assert_eq!(missing.status.code(), Some(1), "no hits after delete");
}

#[test]
fn question_on_stdin_and_default_model_from_settings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let model = test_model();

    let imported = ok(run(bantam(data).args(["models", "import", "--default"]).arg(&model)));
    assert!(stderr(&imported).contains("llama"), "{}", stderr(&imported));
    let default = ok(run(bantam(data).args(["models", "default"])));
    assert_eq!(
        PathBuf::from(stdout(&default).trim()),
        std::fs::canonicalize(&model).unwrap()
    );

    let list = json(&ok(run(bantam(data).args(["models", "list", "--json"]))));
    let rows = list.as_array().unwrap();
    assert!(rows.len() >= 13, "catalogue rows missing");
    assert_eq!(rows.iter().filter(|r| r["default"] == true).count(), 1);

    // No --model: the default from settings is used; the question comes on stdin.
    let mut child = bantam(data)
        .args(["chat", "--json", "--max-tokens", "8", "--seed", "7"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"Say hello.\n").unwrap();
    }
    let out = ok(child.wait_with_output().unwrap());
    let answer = json(&out);
    assert!(answer["usage"]["generated_tokens"].as_u64().unwrap() >= 1);
    assert!(
        answer["model"].as_str().unwrap().to_lowercase().contains("smollm"),
        "{answer}"
    );
}

#[test]
fn models_info_reports_the_gguf_header() {
    let dir = tempfile::tempdir().unwrap();
    let info = json(&ok(run(bantam(dir.path())
        .args(["models", "info", "--json"])
        .arg(test_model()))));
    assert_eq!(info["architecture"], "llama");
    assert_eq!(info["quantization"], "Q4_1");
    assert_eq!(info["has_chat_template"], true);
    assert_eq!(info["context_length"], 8192);
    let params = info["parameters"].as_u64().unwrap();
    assert!((120_000_000..150_000_000).contains(&params), "{params}");
    let text = stdout(&ok(run(bantam(dir.path()).args(["models", "info"]).arg(test_model()))));
    assert!(text.contains("chat template  yes"), "{text}");
}

#[test]
fn failures_have_clear_messages_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    // No model anywhere: a hint, exit 1.
    let none = run(bantam(data).args(["chat", "-p", "hi"]));
    assert_eq!(none.status.code(), Some(1), "{}", stderr(&none));
    assert!(stderr(&none).contains("bantam models import"), "{}", stderr(&none));

    // A model path that does not exist: exit 3, the path in the message.
    let missing = run(bantam(data).args(["chat", "-p", "hi", "--model", "/nonexistent/m.gguf"]));
    assert_eq!(missing.status.code(), Some(3));
    assert!(stderr(&missing).contains("/nonexistent/m.gguf"), "{}", stderr(&missing));

    // A file that is not a GGUF: exit 3 with a reason, for chat, import and info alike.
    let bad = data.join("notes.gguf");
    std::fs::write(&bad, "<html>404 not found</html>").unwrap();
    for args in [
        &["chat", "-p", "hi", "--model"][..],
        &["models", "import"],
        &["models", "info"],
    ] {
        let out = run(bantam(data).args(args).arg(&bad));
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("not a usable GGUF"), "{args:?}: {}", stderr(&out));
    }
    // Importing it must not have registered anything.
    let list = json(&ok(run(bantam(data).args(["models", "list", "--json"]))));
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["path"] != bad.to_str().unwrap()));

    // An unknown conversation: exit 4 before the model is even loaded.
    let unknown = run(bantam(data)
        .args(["chat", "-p", "hi", "--conversation", "999", "--model"])
        .arg(test_model()));
    assert_eq!(unknown.status.code(), Some(4), "{}", stderr(&unknown));
    let unknown = run(bantam(data).args(["history", "show", "999"]));
    assert_eq!(unknown.status.code(), Some(4));

    // Usage errors are clap's: exit 2.
    let usage = run(bantam(data).args(["history", "show", "not-a-number"]));
    assert_eq!(usage.status.code(), Some(2));

    // An empty question is refused without loading anything.
    let empty = run(bantam(data).args(["chat", "-p", "   ", "--model"]).arg(test_model()));
    assert_eq!(empty.status.code(), Some(1));
    assert!(stderr(&empty).contains("empty"));
}

#[test]
fn bench_reports_prefill_and_decode() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(run(bantam(dir.path())
        .args([
            "bench",
            "engine",
            "-p",
            "64",
            "-n",
            "16",
            "-r",
            "2",
            "--parallel",
            "2",
            "--turns",
            "2,3",
            "--json",
            "--model",
        ])
        .arg(test_model())));
    let report = json(&out);
    let tests: Vec<&str> = report["bantam"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["test"].as_str().unwrap())
        .collect();
    assert_eq!(tests, ["pp64", "tg16", "tg16x2"]);
    for r in report["bantam"].as_array().unwrap() {
        assert_eq!(r["samples"].as_array().unwrap().len(), 2);
        assert!(r["mean"].as_f64().unwrap() > 0.0, "{r}");
    }
    // Later turns of a chat reuse the earlier ones from the slot's cache.
    let turns = report["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    for t in turns {
        let prompt = t["prompt_tokens"].as_u64().unwrap();
        let cached = t["cached_tokens"].as_u64().unwrap();
        assert!(cached > prompt / 2, "turn {}: {cached} of {prompt} cached", t["turn"]);
        assert!(t["ttft_fresh_ms"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn memory_facts_are_kept_recalled_in_a_chat_exported_and_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let memory = |args: &[&str]| run(bantam(data).arg("memory").args(args));
    let empty = ok(memory(&["list"]));
    assert!(stderr(&empty).contains("no facts yet"), "{}", stderr(&empty));

    assert!(stderr(&ok(memory(&["add", "My dog is called Biscuit"]))).contains("remembered as 1"));
    ok(memory(&["add", "my dog  is called biscuit"]));
    let facts = json(&ok(memory(&["list", "--json"])));
    assert_eq!(facts.as_array().unwrap().len(), 1, "the same fact twice: {facts}");

    // A new chat is given the fact, and says so.
    let answer = ok(run(bantam(data)
        .args(["chat", "--temperature", "0", "--max-tokens", "8", "--model"])
        .arg(test_model())
        .args(["-p", "What is my dog called?"])));
    assert!(
        stderr(&answer).contains("(from memory: My dog is called Biscuit)"),
        "{}",
        stderr(&answer)
    );
    let facts = json(&ok(memory(&["list", "--json"])));
    assert_eq!(facts[0]["uses"], 1, "{facts}");
    assert!(stdout(&ok(memory(&["search", "dog"]))).contains("Biscuit"));
    assert_eq!(memory(&["search", "giraffe"]).status.code(), Some(4));

    // Export, forget everything (asked twice), import again.
    let export = data.join("facts.json");
    ok(memory(&["export", export.to_str().unwrap()]));
    let refused = memory(&["forget-all"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--yes"), "{}", stderr(&refused));
    assert!(stderr(&ok(memory(&["forget-all", "--yes"]))).contains("forgot 1 facts"));
    assert_eq!(json(&ok(memory(&["list", "--json"]))), serde_json::json!([]));
    assert!(stderr(&ok(memory(&["import", export.to_str().unwrap()]))).contains("imported 1 facts"));
    let facts = json(&ok(memory(&["list", "--json"])));
    assert_eq!(facts[0]["text"], "My dog is called Biscuit");
    let id = facts[0]["id"].to_string();

    // Edit, delete; what is gone is said to be gone; a file that is no export is refused.
    ok(memory(&["edit", &id, "My dog is called Pickle"]));
    assert_eq!(
        json(&ok(memory(&["list", "--json"])))[0]["text"],
        "My dog is called Pickle"
    );
    ok(memory(&["delete", &id]));
    let again = memory(&["delete", &id]);
    assert_eq!(again.status.code(), Some(4), "{}", stderr(&again));
    std::fs::write(&export, "not json").unwrap();
    let bad = memory(&["import", export.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("not a memory export"), "{}", stderr(&bad));
}
