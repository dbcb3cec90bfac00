//! Bad model files get a typed error with the path and a reason a person understands,
//! and the process goes on (the real model still loads afterwards).

mod common;

use std::path::{Path, PathBuf};

use bantam_core::engine::{ChatMessage, Request, Sampling};
use bantam_core::{Engine, EngineConfig, Error};

fn config(path: &Path) -> EngineConfig {
    EngineConfig {
        model_path: path.to_path_buf(),
        ..common::config()
    }
}

/// A copy of the test model with `find` replaced by `replace` (same length) in its header.
fn patched_copy(dir: &Path, name: &str, find: &[u8], replace: &[u8]) -> PathBuf {
    assert_eq!(find.len(), replace.len());
    let mut bytes = std::fs::read(common::test_model()).unwrap();
    let header_end = 4 << 20; // the header (with the vocabulary) is in the first few MB
    let at = bytes[..header_end]
        .windows(find.len())
        .position(|w| w == find)
        .unwrap_or_else(|| panic!("{:?} not in the header", String::from_utf8_lossy(find)));
    bytes[at..at + find.len()].copy_from_slice(replace);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn load_error(path: &Path) -> Error {
    match Engine::start(config(path)).await {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_truncated_foreign_and_missing_files_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let missing = d.join("nope.gguf");
    let e = load_error(&missing).await;
    assert!(matches!(e, Error::ModelNotFound { .. }), "{e}");
    assert!(e.to_string().contains("nope.gguf"));

    let empty = d.join("empty.gguf");
    std::fs::write(&empty, b"").unwrap();
    let e = load_error(&empty).await;
    assert!(
        matches!(&e, Error::InvalidModel { reason, .. } if reason.contains("empty")),
        "{e}"
    );

    let html = d.join("download.gguf");
    std::fs::write(&html, b"<!DOCTYPE html><html><body>404 Not Found</body></html>").unwrap();
    let e = load_error(&html).await;
    assert!(
        e.to_string().contains("GGUF signature") && e.to_string().contains("download.gguf"),
        "{e}"
    );

    let random = d.join("random.gguf");
    let noise: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&random, noise).unwrap();
    assert!(matches!(load_error(&random).await, Error::InvalidModel { .. }));

    // An interrupted download: the real model cut at 60%.
    let real = std::fs::read(common::test_model()).unwrap();
    let truncated = d.join("truncated.gguf");
    std::fs::write(&truncated, &real[..real.len() * 6 / 10]).unwrap();
    let e = load_error(&truncated).await;
    assert!(
        matches!(&e, Error::InvalidModel { reason, .. } if reason.contains("truncated")),
        "{e}"
    );

    // Cut inside the header.
    let cut_header = d.join("cut-header.gguf");
    std::fs::write(&cut_header, &real[..5000]).unwrap();
    let e = load_error(&cut_header).await;
    assert!(
        matches!(&e, Error::InvalidModel { reason, .. } if reason.contains("truncated")),
        "{e}"
    );

    // A well-formed file for an architecture llama.cpp does not know.
    let alien = patched_copy(
        d,
        "alien.gguf",
        b"\x05\x00\x00\x00\x00\x00\x00\x00llama",
        b"\x05\x00\x00\x00\x00\x00\x00\x00zorba",
    );
    let e = load_error(&alien).await;
    assert!(
        matches!(&e, Error::ModelLoad { reason, .. } if reason.contains("zorba")),
        "{e}"
    );

    let e = load_error(d).await;
    assert!(
        matches!(&e, Error::InvalidModel { reason, .. } if reason.contains("directory")),
        "{e}"
    );

    // After all that, the process is fine and the real model loads and answers.
    let engine = Engine::start(common::config()).await.unwrap();
    let c = engine
        .complete(Request::chat(vec![ChatMessage::user("Hi")]).with_sampling(Sampling::greedy(4)))
        .await
        .unwrap();
    assert!(c.usage.generated_tokens > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_without_a_chat_template_needs_one_configured() {
    let dir = tempfile::tempdir().unwrap();
    let plain = patched_copy(
        dir.path(),
        "no-template.gguf",
        b"tokenizer.chat_template",
        b"tokenizer.chat_templatX",
    );
    let engine = Engine::start(config(&plain)).await.unwrap();
    assert!(!engine.info().has_chat_template);
    let chat = || Request::chat(vec![ChatMessage::user("Hi")]).with_sampling(Sampling::greedy(4));
    assert!(matches!(engine.complete(chat()).await, Err(Error::NoChatTemplate)));
    // Raw prompts still work without a template.
    assert!(engine
        .complete(Request::prompt("Hello").with_sampling(Sampling::greedy(2)))
        .await
        .is_ok());
    drop(engine);

    let configured = Engine::start(EngineConfig {
        chat_template: Some("chatml".into()),
        ..config(&plain)
    })
    .await
    .unwrap();
    assert!(configured.info().has_chat_template);
    assert!(configured.complete(chat()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspecting_a_model_reads_its_header_and_checks_llama_cpp_can_load_it() {
    let info = bantam_core::engine::inspect_model(common::test_model()).await.unwrap();
    assert_eq!(info.architecture, "llama");
    assert_eq!(info.quantization, "Q4_1");
    assert!(info.has_chat_template);
    assert!(
        (100_000_000..200_000_000).contains(&info.parameters),
        "{}",
        info.parameters
    );
    assert_eq!(info.context_length, Some(8192));

    let dir = tempfile::tempdir().unwrap();
    let alien = patched_copy(
        dir.path(),
        "alien.gguf",
        b"\x05\x00\x00\x00\x00\x00\x00\x00llama",
        b"\x05\x00\x00\x00\x00\x00\x00\x00zorba",
    );
    let e = bantam_core::engine::inspect_model(alien).await.unwrap_err();
    assert!(e.to_string().contains("zorba"), "{e}");
}
