//! Embeddings from all-MiniLM-L6-v2 converted to GGUF by models/bert_to_gguf.py, through
//! llama.cpp, against a reference computed here from the model's own safetensors (BERT's
//! tokenizer and forward pass in numpy: tests/support/bert_reference.py).

use std::io::Write;
use std::process::{Command, Stdio};

use bantam_core::embed::{cosine, EmbedConfig, Embedder};

const TEXTS: [&str; 6] = [
    "A man is playing a guitar.",
    "Someone plays a musical instrument!",
    "The cat sits on the mat.",
    "Stock markets fell sharply on Tuesday after the bank raised interest rates.",
    "Interest rates went up and shares dropped.",
    "Café déjà vu: naïve résumés, 3.14 × 2 = 6.28?",
];

fn reference(texts: &[&str]) -> Vec<Vec<f32>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/bert_reference.py");
    let mut child = Command::new(bantam_testkit::gguf_python())
        .arg(script)
        .arg(bantam_testkit::embed_model_source())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the reference runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(texts).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).expect("vectors as JSON")
}

async fn embedder() -> Embedder {
    let mut config = EmbedConfig::new(bantam_testkit::embed_model());
    config.threads = Some(bantam_testkit::test_threads());
    Embedder::start(config).await.expect("the embedding model loads")
}

#[tokio::test]
async fn vectors_match_the_models_own_weights_and_batching_changes_nothing() {
    let embedder = embedder().await;
    assert_eq!(embedder.info().dimensions, 384);
    assert_eq!(embedder.info().max_tokens, 512);
    let texts: Vec<String> = TEXTS.iter().map(|t| t.to_string()).collect();
    let together = embedder.embed(texts.clone()).await.unwrap();
    let expected = reference(&TEXTS);
    for (i, (got, want)) in together.iter().zip(&expected).enumerate() {
        let norm: f32 = got.vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length: {norm}");
        let agree = cosine(&got.vector, want);
        assert!(
            agree > 0.999,
            "text {i} ({:?}): cosine {agree} with the reference",
            TEXTS[i]
        );
    }
    // Pairs keep the reference's similarities.
    for (a, b) in [(0, 1), (0, 2), (3, 4), (2, 3)] {
        let got = cosine(&together[a].vector, &together[b].vector);
        let want = cosine(&expected[a], &expected[b]);
        assert!((got - want).abs() < 2e-3, "pair {a},{b}: {got} vs {want}");
    }
    assert!(cosine(&together[0].vector, &together[1].vector) > cosine(&together[0].vector, &together[2].vector) + 0.3);
    assert!(cosine(&together[3].vector, &together[4].vector) > cosine(&together[3].vector, &together[0].vector) + 0.3);

    // One at a time: the same vectors.
    for (i, text) in TEXTS.iter().enumerate() {
        let alone = embedder.embed_one(text).await.unwrap();
        assert!(cosine(&alone, &together[i].vector) > 0.9999, "text {i}");
    }
}

#[tokio::test]
async fn a_long_text_is_cut_to_the_models_length_and_many_texts_span_batches() {
    let embedder = embedder().await;
    let long = "the quick brown fox jumps over the lazy dog ".repeat(200);
    let mut texts = vec![long.clone()];
    texts.extend((0..150).map(|i| format!("note number {i} about item {}", i * 7)));
    let out = embedder.embed(texts).await.unwrap();
    assert_eq!(out.len(), 151);
    assert!(
        out[0].truncated && out[0].tokens == 512,
        "{:?}",
        (out[0].truncated, out[0].tokens)
    );
    assert!(out[1..].iter().all(|e| !e.truncated && e.tokens < 20));
    // The cut text is the embedding of its start (a word is a token here: 510 and the two
    // markers).
    let start: String = long.split_whitespace().take(510).collect::<Vec<_>>().join(" ");
    let start = embedder.embed_one(&start).await.unwrap();
    assert!(cosine(&start, &out[0].vector) > 0.9999);
    // Texts in later batches are embedded as they would be alone.
    let alone = embedder.embed_one("note number 149 about item 1043").await.unwrap();
    assert!(cosine(&alone, &out[150].vector) > 0.9999);
    assert_eq!(embedder.embed(Vec::new()).await.unwrap(), Vec::new());
}

#[tokio::test]
async fn a_chat_model_is_refused_as_an_embedding_model_with_why() {
    let mut config = EmbedConfig::new(bantam_testkit::test_model());
    config.threads = Some(bantam_testkit::test_threads());
    let e = Embedder::start(config)
        .await
        .err()
        .expect("a chat model pools no sentence embedding");
    assert!(e.to_string().contains("not an embedding model"), "{e}");
}
