//! Search by words and meaning over a real SQLite file with the real embedding model:
//! what is indexed, what each method finds, fusion, re-indexing after a model change,
//! and nothing left behind when the source is deleted.

use bantam_core::embed::{EmbedConfig, Embedder};
use bantam_core::engine::Role;
use bantam_core::ingest::{Chunk, Hints};
use bantam_core::search::{self, SearchOptions};
use bantam_core::store::{MessageStats, NewDocument, SourceKind};
use bantam_core::Store;

mod common;

async fn embedder() -> Embedder {
    let mut config = EmbedConfig::new(bantam_testkit::embed_model());
    config.threads = Some(bantam_testkit::test_threads());
    Embedder::start(config).await.expect("the embedding model loads")
}

fn chunk(index: usize, text: &str) -> Chunk {
    Chunk {
        index,
        text: text.to_string(),
        tokens: text.split_whitespace().count(),
        start: 0,
        end: text.len(),
        page_start: Some(index + 1),
        page_end: Some(index + 1),
        heading_path: Vec::new(),
    }
}

const LEASE: [&str; 3] = [
    "The tenant shall pay the monthly rent of 950 euros on the first working day of each month.",
    "No dogs, cats or other animals may be kept in the flat without the landlord's written consent.",
    "Either party may end this agreement with three months' notice in writing.",
];

async fn filled(dir: &std::path::Path) -> (Store, i64, i64) {
    let store = Store::open(&dir.join("bantam.db")).await.unwrap();
    let text = LEASE.join("\n\n");
    let hints = Hints::default();
    let (doc, _) = store
        .upsert_document(&NewDocument {
            sha256: "lease",
            path: "/tmp/lease.pdf",
            name: "lease.pdf",
            format: "pdf",
            size_bytes: text.len() as u64,
            pages: Some(3),
            words: text.split_whitespace().count(),
            text: &text,
            hints: &hints,
        })
        .await
        .unwrap();
    let chunks: Vec<Chunk> = LEASE.iter().enumerate().map(|(i, t)| chunk(i, t)).collect();
    store.replace_chunks(doc.id, &chunks, "test").await.unwrap();
    let chat = store.create_conversation("Holiday", None, None).await.unwrap();
    let stats = MessageStats::default();
    for text in [
        "Book the train to Lyon for the 14th, the early one.",
        "My sister's birthday is on the 3rd of May; remind me to call her.",
    ] {
        store.add_message(chat.id, Role::User, text, &stats).await.unwrap();
    }
    (store, doc.id, chat.id)
}

#[tokio::test]
async fn words_and_meaning_each_find_what_the_other_misses_and_fusion_keeps_both() {
    let dir = tempfile::tempdir().unwrap();
    let (store, doc, chat) = filled(dir.path()).await;
    let embedder = embedder().await;
    let model = embedder.info().model_id.clone();
    assert_eq!(store.unembedded_count(&model).await.unwrap(), 5);
    let mut seen = Vec::new();
    let done = search::index(&store, &embedder, |d, t| seen.push((d, t)))
        .await
        .unwrap();
    assert_eq!(done, 5);
    assert_eq!(seen.last(), Some(&(5, 5)));
    assert_eq!(store.unembedded_count(&model).await.unwrap(), 0);
    // Nothing left to do: a second run embeds nothing.
    assert_eq!(search::index(&store, &embedder, |_, _| {}).await.unwrap(), 0);

    let options = SearchOptions::default();
    // No word in common with the clause about animals: found by meaning alone, first.
    let pets = search::search(&store, Some(&embedder), "Am I allowed to have a pet?", &options)
        .await
        .unwrap();
    let first = &pets[0];
    assert_eq!(
        (first.kind, first.source_id, first.part),
        (SourceKind::Chunk, doc, 1),
        "{pets:#?}"
    );
    assert_eq!(first.page, Some(2));
    assert_eq!(first.title, "lease.pdf");
    assert!(first.meaning_rank == Some(1) && first.word_rank.is_none(), "{first:?}");
    // Words alone do not find it.
    let words_only = search::search(&store, None, "Am I allowed to have a pet?", &options)
        .await
        .unwrap();
    assert!(
        words_only.iter().all(|h| h.part != 1 || h.kind != SourceKind::Message),
        "{words_only:#?}"
    );
    assert!(
        !words_only.iter().any(|h| h.kind == SourceKind::Chunk && h.part == 1),
        "{words_only:#?}"
    );

    // A rare word both methods like: first, found by both, its words highlighted.
    let lyon = search::search(&store, Some(&embedder), "train Lyon", &options)
        .await
        .unwrap();
    assert_eq!(lyon[0].kind, SourceKind::Message, "{lyon:#?}");
    assert_eq!(lyon[0].parent_id, chat);
    assert!(lyon[0].word_rank.is_some() && lyon[0].meaning_rank.is_some());
    assert!(lyon[0].snippet.contains("[Lyon]"), "{}", lyon[0].snippet);

    // Only chats.
    let only = SearchOptions {
        kinds: vec![SourceKind::Message],
        ..SearchOptions::default()
    };
    let chats = search::search(&store, Some(&embedder), "rent notice landlord", &only)
        .await
        .unwrap();
    assert!(chats.iter().all(|h| h.kind == SourceKind::Message), "{chats:#?}");
}

#[tokio::test]
async fn deleting_the_source_leaves_no_vector_and_no_word_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (store, doc, chat) = filled(dir.path()).await;
    let embedder = embedder().await;
    search::index(&store, &embedder, |_, _| {}).await.unwrap();
    let model = embedder.info().model_id.clone();
    let all = [SourceKind::Message, SourceKind::Chunk];
    assert_eq!(store.vectors(&model, &all).await.unwrap().len(), 5);
    let options = SearchOptions::default();
    let found = search::search(&store, Some(&embedder), "pets in the flat", &options)
        .await
        .unwrap();
    assert!(
        found.iter().any(|h| h.source_id == doc && h.meaning_rank.is_some()),
        "{found:#?}"
    );

    // Deleted through another handle on the file (the CLI beside the app): the vectors
    // this one keeps in memory since its last search must not outlive the rows.
    let other = Store::open(&dir.path().join("bantam.db")).await.unwrap();
    other.delete_document(doc).await.unwrap();
    other.delete_conversation(chat).await.unwrap();
    assert!(store.vectors(&model, &all).await.unwrap().is_empty());
    let query = embedder.embed_one("pets in the flat").await.unwrap();
    let nearest = search::nearest(&store, &model, &query, &options).await.unwrap();
    assert!(nearest.is_empty(), "{nearest:#?}");
    assert!(store.search_chunks("dogs", 10).await.unwrap().is_empty());
    let found = search::search(&store, Some(&embedder), "pets in the flat", &options)
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:#?}");
}

/// Mail is searched with the rest: by its words (subject, sender, body) and its meaning,
/// and a deleted message leaves nothing behind.
#[tokio::test]
async fn mail_is_found_by_words_and_meaning_and_forgotten_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = filled(dir.path()).await;
    let raw = "From: Anna Berg <anna@heating.example>\r\nTo: me@example.org\r\n\
               Subject: Boiler service on Tuesday\r\nMessage-ID: <boiler-1@heating.example>\r\n\
               Date: Mon, 7 Dec 2026 09:00:00 +0000\r\n\r\nThe engineer will arrive between 8 and 10 \
               to service the boiler. Please leave the side gate open.\r\n";
    let mail = bantam_core::mail::parse(raw.as_bytes(), "test").expect("parses");
    let id = store.upsert_mail(&mail).await.unwrap();
    let embedder = embedder().await;
    let model = embedder.info().model_id.clone();
    assert_eq!(store.unembedded_count(&model).await.unwrap(), 6);
    search::index(&store, &embedder, |_, _| {}).await.unwrap();
    assert_eq!(store.vectors(&model, &[SourceKind::Mail]).await.unwrap().len(), 1);

    // By meaning: no word in common with the mail.
    let visit = search::search(
        &store,
        Some(&embedder),
        "When is the heating repair visit?",
        &SearchOptions::default(),
    )
    .await
    .unwrap();
    let first = &visit[0];
    assert_eq!(
        (first.kind, first.source_id, first.parent_id),
        (SourceKind::Mail, id, id),
        "{visit:#?}"
    );
    assert_eq!(first.title, "Boiler service on Tuesday");
    assert!(first.meaning_rank.is_some());
    // By words: the sender's name, and a phrase of the body, highlighted.
    let words = store.search_mail("Anna", 10).await.unwrap();
    assert_eq!(words.first().map(|w| w.0), Some(id), "{words:?}");
    let gate = search::search(&store, Some(&embedder), "side gate", &SearchOptions::default())
        .await
        .unwrap();
    assert_eq!(gate[0].kind, SourceKind::Mail, "{gate:#?}");
    assert!(gate[0].snippet.contains("[gate]"), "{}", gate[0].snippet);
    // Only documents: the mail is not among them.
    let docs = SearchOptions {
        kinds: vec![SourceKind::Chunk],
        ..SearchOptions::default()
    };
    let only = search::search(&store, Some(&embedder), "side gate boiler", &docs)
        .await
        .unwrap();
    assert!(only.iter().all(|h| h.kind == SourceKind::Chunk), "{only:#?}");

    store.delete_mail(id).await.unwrap();
    assert!(store.vectors(&model, &[SourceKind::Mail]).await.unwrap().is_empty());
    assert!(store.search_mail("boiler gate Anna", 10).await.unwrap().is_empty());
    let after = search::search(&store, Some(&embedder), "boiler service", &SearchOptions::default())
        .await
        .unwrap();
    assert!(after.iter().all(|h| h.kind != SourceKind::Mail), "{after:#?}");
    assert!(matches!(
        store.delete_mail(id).await,
        Err(bantam_core::Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn vectors_from_another_model_are_made_again() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = filled(dir.path()).await;
    let embedder = embedder().await;
    search::index(&store, &embedder, |_, _| {}).await.unwrap();
    // The same text under another model id: everything is due again, and replaced.
    assert_eq!(store.unembedded_count("another-model:1").await.unwrap(), 5);
    let rows = store.unembedded("another-model:1", 100).await.unwrap();
    assert_eq!(rows.len(), 5);
}

/// Reranking reads the model's own probability of "yes" at the first token of its reply:
/// every passage gets a share between 0 and 1 from real logits (0.5 is what it falls back
/// to when neither word is among the likeliest tokens), passages in, scores out in order.
#[tokio::test]
async fn the_model_judges_each_passage_from_its_logits() {
    let engine = common::engine().await;
    let passages: Vec<String> = LEASE.iter().map(|p| p.to_string()).collect();
    let scores = bantam_core::rerank::relevance(&engine, "How much is the monthly rent?", &passages)
        .await
        .unwrap();
    assert_eq!(scores.len(), passages.len());
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)), "{scores:?}");
    assert!(
        scores.iter().all(|s| (s - 0.5).abs() > 1e-6),
        "no yes/no among the likeliest: {scores:?}"
    );
    assert!(bantam_core::rerank::relevance(&engine, "rent?", &[])
        .await
        .unwrap()
        .is_empty());
}

/// The background indexer stays out of a chat's way: while the engine answers, nothing is
/// embedded; once it is idle, everything stored is, without being asked again.
#[tokio::test]
async fn background_indexing_waits_while_the_engine_answers() {
    use bantam_core::engine::{ChatMessage, Event, Request, Sampling};
    use bantam_core::indexer::Indexer;

    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = filled(dir.path()).await;
    let embedder = embedder().await;
    let model = embedder.info().model_id.clone();
    let engine = common::engine().await;
    // A long answer under way before indexing starts.
    let request =
        Request::chat(vec![ChatMessage::user("Write a long story about a lighthouse.")]).with_sampling(Sampling {
            ignore_eos: true,
            ..Sampling::greedy(400)
        });
    let mut answer = engine.submit(request).unwrap();
    loop {
        match answer.next().await {
            Some(Event::Token(_)) => break,
            Some(Event::Failed(e)) => panic!("{e}"),
            None => panic!("the answer ended before its first token"),
            Some(_) => {}
        }
    }

    let indexer = Indexer::new(store.clone(), embedder.clone());
    let chat = engine.clone();
    let _background = indexer.start(move || {
        let e = chat.clone();
        async move { Some(e) }
    });
    // Indexing these five texts takes a fraction of the answer's 400 tokens: had it not
    // waited, it would be done first.
    tokio::select! {
        _ = indexer.caught_up() => panic!("indexed while the engine was answering"),
        done = answer.collect() => { done.unwrap(); }
    }
    assert_eq!(store.unembedded_count(&model).await.unwrap(), 5);
    indexer.caught_up().await;
    assert_eq!(store.unembedded_count(&model).await.unwrap(), 0);

    // Something new, a poke, and it is found by meaning.
    let garden = store.create_conversation("Garden", None, None).await.unwrap();
    store
        .add_message(
            garden.id,
            Role::User,
            "The tomatoes need watering twice a day in July.",
            &MessageStats::default(),
        )
        .await
        .unwrap();
    indexer.poke();
    indexer.caught_up().await;
    assert_eq!(store.unembedded_count(&model).await.unwrap(), 0);
}
