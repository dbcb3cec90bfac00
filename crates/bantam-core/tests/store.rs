//! The SQLite store on real database files: migrations from empty and from every earlier
//! version, conversations with full-text search, and the resumable jobs queue.

use std::borrow::Cow;

use bantam_core::engine::Role;
use bantam_core::jobs::JobRun;
use bantam_core::store::{JobState, MessageStats, SourceKind, MIGRATOR};
use bantam_core::{Error, Store};
use sqlx::migrate::Migrator;

async fn columns(store: &Store, table: &str) -> Vec<String> {
    sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_database_gets_every_migration_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/bantam.sqlite3");
    let store = Store::open(&path).await.unwrap();
    let all: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    assert!(all.len() >= 2);
    assert_eq!(store.schema_versions().await.unwrap(), all);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    for table in ["settings", "conversations", "messages", "models", "jobs"] {
        assert!(!columns(&store, table).await.is_empty(), "{table} missing");
    }
    store.close().await;
    // Opening again is a no-op for the schema.
    let again = Store::open(&path).await.unwrap();
    assert_eq!(again.schema_versions().await.unwrap(), all);
}

#[tokio::test]
async fn every_earlier_version_upgrades_and_keeps_its_data() {
    for applied in 1..MIGRATOR.iter().count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        let old = Store::open_unmigrated(&path).await.unwrap();
        let partial = Migrator {
            migrations: Cow::Owned(MIGRATOR.iter().take(applied).cloned().collect()),
            ..Migrator::DEFAULT
        };
        partial.run(old.pool()).await.unwrap();
        assert_eq!(old.schema_versions().await.unwrap().len(), applied);
        // Data written the way that version's schema allows (plain SQL: no newer code).
        sqlx::query("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (1, 'Trip', 1, 1)")
            .execute(old.pool())
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO messages (conversation_id, role, content, created_at)
             VALUES (1, 'user', 'Which trains go to Lisbon?', 1), (1, 'assistant', 'The night train does.', 2)",
        )
        .execute(old.pool())
        .await
        .unwrap();
        sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ('default_model', '\"/m.gguf\"', 1)")
            .execute(old.pool())
            .await
            .unwrap();
        // Mail (from 5) and a message's vector (from 10), which the mail-search version
        // moves to a new table.
        if applied >= 5 {
            sqlx::query(
                "INSERT INTO mail_messages (key, source, from_address, subject, message, created_at)
                 VALUES ('k1', 'test', 'anna@heating.example', 'Boiler service',
                         '{\"text\": \"Please leave the side gate open.\"}', 1)",
            )
            .execute(old.pool())
            .await
            .unwrap();
        }
        if applied >= 10 {
            sqlx::query(
                "INSERT INTO embeddings (kind, source_id, part, window, model_id, vector)
                 VALUES ('message', 1, 0, 0, 'm', x'0000803f')",
            )
            .execute(old.pool())
            .await
            .unwrap();
        }
        old.close().await;

        let store = Store::open(&path).await.unwrap();
        assert_eq!(store.schema_versions().await.unwrap().len(), MIGRATOR.iter().count());
        let messages = store.messages(1).await.unwrap();
        assert_eq!(messages.len(), 2, "from version {applied}");
        let hits = store.search_messages("lisbon", 10).await.unwrap();
        assert_eq!(
            hits.len(),
            1,
            "old messages are searchable after upgrading from {applied}"
        );
        assert_eq!(
            store.get_setting::<String>("default_model").await.unwrap().as_deref(),
            Some("/m.gguf")
        );
        if applied >= 5 {
            let mail = store.search_mail("gate", 10).await.unwrap();
            assert_eq!(mail.len(), 1, "old mail is searchable after upgrading from {applied}");
        }
        if applied >= 10 {
            let kept = store.vectors("m", &[SourceKind::Message]).await.unwrap();
            assert_eq!(kept.len(), 1, "vectors kept from {applied}");
            // The triggers made again still clean up after a deleted message.
            store.delete_conversation(1).await.unwrap();
            assert!(store.vectors("m", &[SourceKind::Message]).await.unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn conversations_are_stored_searched_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite3")).await.unwrap();
    let trip = store.create_conversation("Trip", Some("smollm2"), None).await.unwrap();
    let cook = store
        .create_conversation("Cooking", None, Some("Be brief."))
        .await
        .unwrap();
    store
        .add_message(
            trip.id,
            Role::User,
            "What is the capital of Portugal?",
            &MessageStats::default(),
        )
        .await
        .unwrap();
    let stats = MessageStats {
        model: Some("smollm2".into()),
        prompt_tokens: Some(20),
        generated_tokens: Some(5),
        ttft_ms: Some(12.5),
        finish_reason: Some("stop".into()),
        ..MessageStats::default()
    };
    let answer = store
        .add_message(trip.id, Role::Assistant, "Lisbon is the capital.", &stats)
        .await
        .unwrap();
    assert_eq!(answer.generated_tokens, Some(5));
    store
        .add_message(
            cook.id,
            Role::User,
            "How long do I boil an egg?",
            &MessageStats::default(),
        )
        .await
        .unwrap();

    let list = store.list_conversations(10).await.unwrap();
    assert_eq!(list[0].id, cook.id, "most recent first");
    assert_eq!(list.iter().find(|c| c.id == trip.id).unwrap().message_count, 2);

    let hits = store.search_messages("capital", 10).await.unwrap();
    assert_eq!(hits.len(), 2);
    assert!(hits
        .iter()
        .all(|h| h.conversation_id == trip.id && h.snippet.contains("[capital]")));
    // Prefix match and words quoted so syntax characters are just text.
    assert_eq!(store.search_messages("boil", 10).await.unwrap().len(), 1);
    assert_eq!(store.search_messages("capi", 10).await.unwrap().len(), 2);
    assert!(store.search_messages("\"AND OR (", 10).await.unwrap().is_empty());
    assert!(store.search_messages("   ", 10).await.unwrap().is_empty());

    store.rename_conversation(trip.id, "Portugal").await.unwrap();
    assert_eq!(store.conversation(trip.id).await.unwrap().title, "Portugal");
    store.delete_conversation(trip.id).await.unwrap();
    assert!(
        store.search_messages("capital", 10).await.unwrap().is_empty(),
        "search entries go with it"
    );
    assert!(store.messages(trip.id).await.unwrap().is_empty());
    assert!(matches!(store.conversation(trip.id).await, Err(Error::NotFound { .. })));
    assert!(matches!(
        store.delete_conversation(trip.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store
            .add_message(trip.id, Role::User, "x", &MessageStats::default())
            .await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn jobs_resume_after_a_crash_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.sqlite3");
    let store = Store::open(&path).await.unwrap();
    let a = store
        .enqueue_job("triage", Some("INBOX/1"), &serde_json::json!({"uid": 1}))
        .await
        .unwrap();
    let again = store
        .enqueue_job("triage", Some("INBOX/1"), &serde_json::json!({"uid": 1}))
        .await
        .unwrap();
    assert_eq!(a.id, again.id, "the same key is queued once");
    store
        .enqueue_job("triage", Some("INBOX/2"), &serde_json::json!({"uid": 2}))
        .await
        .unwrap();
    assert_eq!(store.count_jobs("triage", JobState::Queued).await.unwrap(), 2);

    let run = JobRun::resume(&store, a.id).await.unwrap();
    assert_eq!(
        (run.job().id, run.job().state, run.job().attempts),
        (a.id, JobState::Running, 1)
    );
    // The process dies here: nothing ends the run, and no runtime is left to mark it.
    std::mem::forget(run);
    drop(store);

    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.recover_interrupted_jobs().await.unwrap(), 1);
    let mut done = Vec::new();
    for job in store.queued_jobs("triage").await.unwrap() {
        let run = JobRun::resume(&store, job.id).await.unwrap();
        let uid: serde_json::Value = run.job().payload().unwrap();
        run.complete(&uid).await.unwrap();
        done.push(job.id);
    }
    assert_eq!(done.len(), 2, "each job once");
    assert_eq!(store.job(a.id).await.unwrap().attempts, 2);
    assert_eq!(store.count_jobs("triage", JobState::Done).await.unwrap(), 2);
    assert!(store.queued_jobs("triage").await.unwrap().is_empty());

    let flaky = JobRun::begin(&store, "summarize", None, &"doc").await.unwrap();
    let id = flaky.job().id;
    assert_eq!(flaky.fail("disk full", 2).await.unwrap(), JobState::Queued);
    let flaky = JobRun::resume(&store, id).await.unwrap();
    assert_eq!(flaky.fail("disk full", 2).await.unwrap(), JobState::Failed);
    assert_eq!(store.job(id).await.unwrap().last_error.as_deref(), Some("disk full"));
    assert!(store.queued_jobs("summarize").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_job_run_dropped_mid_way_is_interrupted_and_a_cancelled_one_stays_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("jobs.sqlite3")).await.unwrap();
    let run = JobRun::begin(&store, "summarize", Some("doc-1"), &1).await.unwrap();
    let id = run.job().id;
    assert_eq!(store.job(id).await.unwrap().state, JobState::Running);
    // An aborted task drops its run: back in the queue, on the same runtime.
    drop(run);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.job(id).await.unwrap().state != JobState::Queued {
        assert!(std::time::Instant::now() < deadline, "the dropped run stayed running");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(store.job(id).await.unwrap().last_error.as_deref(), Some("interrupted"));

    let run = JobRun::begin(&store, "summarize", Some("doc-1"), &1).await.unwrap();
    assert_eq!(run.job().id, id, "the same job is resumed, not a second one");
    run.interrupt().await.unwrap();
    assert_eq!(store.queued_jobs("summarize").await.unwrap().len(), 1);

    let run = JobRun::resume(&store, id).await.unwrap();
    run.cancel().await.unwrap();
    assert_eq!(store.job(id).await.unwrap().state, JobState::Cancelled);
    assert!(store.queued_jobs("summarize").await.unwrap().is_empty());
    assert_eq!(store.recover_interrupted_jobs().await.unwrap(), 0);
}

#[tokio::test]
async fn settings_round_trip_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).await.unwrap();
    assert_eq!(store.get_setting::<u32>("threads").await.unwrap(), None);
    store.set_setting("threads", &4u32).await.unwrap();
    store.set_setting("threads", &6u32).await.unwrap();
    assert_eq!(store.get_setting::<u32>("threads").await.unwrap(), Some(6));
    assert!(
        store.get_setting::<String>("threads").await.is_err(),
        "wrong type is an error, not a panic"
    );
    store.delete_setting("threads").await.unwrap();
    assert_eq!(store.get_setting::<u32>("threads").await.unwrap(), None);
}
