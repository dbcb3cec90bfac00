//! Summaries and metadata of real documents on the real model (SmolLM2 through llama.cpp).

mod common;

use bantam_core::ingest;
use bantam_core::store::JobState;
use bantam_core::tasks::documents::{
    metadata_schema, DocumentEvent, DocumentOptions, DocumentService, SummaryLength, Target, JOB_KIND,
};
use bantam_core::Store;

async fn service(dir: &tempfile::TempDir, chunk_tokens: usize) -> DocumentService {
    let store = Store::open(&dir.path().join("bantam.db")).await.expect("store");
    DocumentService::new(
        common::engine().await,
        store,
        DocumentOptions {
            chunk_tokens: Some(chunk_tokens),
            ..DocumentOptions::default()
        },
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn map_reduce_summarizes_every_chunk_once_with_progress_to_the_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = service(&dir, 256).await;
    let file = common::test_corpus().join("debian-faq-basic-defs.en.html");

    let mut run = docs.summarize(Target::Path(file.clone()), SummaryLength::Tldr, false);
    let mut progress = Vec::new();
    let mut streamed = String::new();
    let mut saw_metadata = false;
    let result = loop {
        match run.next().await.expect("events until Done") {
            DocumentEvent::Mapped { done, total } => progress.push((done, total)),
            DocumentEvent::Token(t) => streamed.push_str(&t),
            DocumentEvent::Metadata(_) => saw_metadata = true,
            DocumentEvent::Done(r) => break *r,
            DocumentEvent::Failed(e) => panic!("summary failed: {e}"),
            DocumentEvent::Ingested(_) => {}
        }
    };
    assert!(result.map_reduce);
    assert!(result.chunks > 3, "{} chunks", result.chunks);
    assert_eq!(result.mapped, result.chunks);
    assert_eq!(progress.first(), Some(&(0, result.chunks)));
    assert_eq!(progress.last(), Some(&(result.chunks, result.chunks)));
    assert!(progress.windows(2).all(|w| w[1].0 == w[0].0 + 1), "{progress:?}");
    assert!(!result.text.is_empty());
    assert_eq!(streamed.trim(), result.text, "the final pass streams the summary");
    assert!(saw_metadata == result.metadata.is_some());

    let chunks = docs.store().chunks(result.document_id).await.expect("chunks");
    assert_eq!(chunks.len(), result.chunks);
    assert!(chunks
        .iter()
        .all(|c| c.summary.as_deref().is_some_and(|s| !s.is_empty())));
    assert_eq!(
        docs.store().count_jobs(JOB_KIND, JobState::Done).await.expect("jobs"),
        1
    );

    // The same content again: the stored summary, at once.
    let again = docs
        .summarize(Target::Path(file.clone()), SummaryLength::Tldr, false)
        .finish()
        .await
        .expect("cached");
    assert!(again.cached);
    assert_eq!(again.mapped, 0);
    assert_eq!(again.text, result.text);
    assert_eq!(again.document_id, result.document_id);

    // Redo maps every chunk again (greedy decoding: the same summaries come back).
    let redo = docs
        .summarize(Target::Document(result.document_id), SummaryLength::Tldr, true)
        .finish()
        .await
        .expect("redo");
    assert!(!redo.cached);
    assert_eq!(redo.mapped, result.chunks);
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_is_schema_valid_and_computed_fields_are_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = service(&dir, 256).await;
    let schema = metadata_schema();
    let enum_values: Vec<String> = schema["properties"]["document_type"]["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();

    for name in ["maint-guide.en.pdf", "python-docx-README.md", "mail_test_3.eml"] {
        let path = common::test_corpus().join(name);
        let bytes = std::fs::read(&path).expect("read");
        let doc = docs.ingest(&path).await.expect("ingest");
        let m = docs
            .metadata(&doc, false)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let value = serde_json::to_value(&m).expect("json");
        for key in schema["required"].as_array().expect("required") {
            assert!(
                value.get(key.as_str().unwrap_or_default()).is_some(),
                "{name}: {key} missing"
            );
        }
        assert!(enum_values.contains(&value["document_type"].as_str().unwrap_or_default().to_string()));
        // The model gives 3–7; restatements are dropped after, so at least one stays.
        let points = &m.extracted.key_points;
        assert!((1..=7).contains(&points.len()), "{name}: {points:?}");
        // 240 is the schema's bound; a point cut there ends with "…".
        assert!(points.iter().all(|p| p.chars().count() <= 241), "{name}: {points:?}");
        let lower: std::collections::HashSet<String> = points.iter().map(|p| p.to_lowercase()).collect();
        assert_eq!(lower.len(), points.len(), "{name}: a point repeats: {points:?}");
        assert!(m.extracted.title.chars().count() <= 150);

        let text = docs.store().document_text(doc.document.id).await.expect("text");
        assert_eq!(m.sha256, ingest::sha256_hex(&bytes), "{name}");
        assert_eq!(m.size_bytes, bytes.len() as u64);
        assert_eq!(m.words, text.split_whitespace().count());
        assert_eq!(m.chunks, doc.chunks.len());
        assert_eq!(m.file_name, name);
        // Stored: asking again does not run the model.
        let stored = docs.metadata(&doc, false).await.expect("stored");
        assert_eq!(stored, m);
    }
    let pdf = docs
        .ingest(&common::test_corpus().join("maint-guide.en.pdf"))
        .await
        .expect("pdf");
    let m = docs.metadata(&pdf, false).await.expect("pdf metadata");
    assert_eq!(m.pages, Some(63));
    assert_eq!(m.format, "pdf");
    // The file's own metadata wins over the model's guess.
    let readme = docs
        .ingest(&common::test_corpus().join("python-docx-README.md"))
        .await
        .expect("md");
    assert_eq!(
        docs.metadata(&readme, false).await.expect("md").extracted.title,
        "python-docx"
    );
    let mail = docs
        .ingest(&common::test_corpus().join("mail_test_3.eml"))
        .await
        .expect("eml");
    let m = docs.metadata(&mail, false).await.expect("eml");
    assert_eq!(m.extracted.title, "Hi there");
    assert_eq!(m.extracted.authors, ["Ava Oneil"]);
    assert_eq!(m.extracted.dates.first().map(String::as_str), Some("2016-08-22"));
}

#[tokio::test(flavor = "multi_thread")]
async fn short_documents_take_one_pass_and_can_be_asked_about() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = service(&dir, 1024).await;
    let result = docs
        .summarize(
            Target::Path(common::test_corpus().join("python-docx-README.md")),
            SummaryLength::Short,
            false,
        )
        .finish()
        .await
        .expect("summary");
    assert!(!result.map_reduce);
    assert_eq!(result.chunks, 1);
    assert_eq!(result.mapped, 0);
    assert!(!result.text.is_empty());

    let chat = docs.start_chat(result.document_id).await.expect("chat");
    let system = chat.system_prompt.expect("a system prompt");
    assert!(
        system.contains("pip install python-docx"),
        "the document text is the context"
    );

    // Clipboard text is a document too; the same text is the same document.
    let clip = "Meeting notes: the budget for 2027 is 40,000 EUR. Alice signs the contract on Friday.";
    let clipboard = || async {
        docs.summarize(
            Target::Text {
                name: "Clipboard".into(),
                text: clip.into(),
            },
            SummaryLength::Tldr,
            false,
        )
        .finish()
        .await
        .expect("clipboard")
    };
    let a = clipboard().await;
    let b = clipboard().await;
    assert_eq!(a.document_id, b.document_id);
    assert!(b.cached);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_file_is_a_clear_failure_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = service(&dir, 256).await;
    let fake = dir.path().join("report.pdf");
    std::fs::write(&fake, "<html><body>not a pdf</body></html>").expect("write");
    let err = docs
        .summarize(Target::Path(fake), SummaryLength::Short, false)
        .finish()
        .await
        .expect_err("a lying extension");
    assert!(
        err.to_string().contains("the name says PDF but the content is HTML"),
        "{err}"
    );
    assert!(docs.store().list_documents(None, 10).await.expect("list").is_empty());
}
