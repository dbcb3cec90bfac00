//! Servers written by others, started on loopback for the remote tier to talk to:
//! llama.cpp's `llama-server` and an OpenAI-compatible endpoint on Starlette whose events
//! sse-starlette frames (`tests/peers/starlette_server.py`). Killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// llama.cpp's `llama-server`, as `scripts/anchor/llama-server.sh` builds it (scripts/test.sh
/// does): `BANTAM_LLAMA_SERVER`, else where that script leaves it.
pub fn llama_server_bin() -> PathBuf {
    let cache = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/bantam-anchor"));
    let built = || {
        let cache = cache.clone()?;
        let sdists = std::fs::read_dir(&cache).ok()?.flatten().map(|e| e.path());
        sdists
            .map(|d| d.join("build/bin/llama-server"))
            .chain([cache.join("llama.cpp/build/bin/llama-server")])
            .find(|p| p.is_file())
    };
    let path = std::env::var_os("BANTAM_LLAMA_SERVER")
        .map(PathBuf::from)
        .or_else(built)
        .unwrap_or_else(|| PathBuf::from("llama-server"));
    assert!(
        path.is_file(),
        "llama-server is missing at {}: run scripts/anchor/llama-server.sh",
        path.display()
    );
    path
}

pub struct Peer {
    child: Child,
    /// Up to `/v1`.
    pub url: String,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Peer {
    /// `llama-server` on `model` with this API key, one slot, on a free loopback port;
    /// returns once it says it listens (after the model loaded).
    pub fn llama_server(model: &Path, key: &str) -> Self {
        // A port the OS just gave out and took back: llama-server has no port 0.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut cmd = Command::new(llama_server_bin());
        cmd.arg("-m")
            .arg(model)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--api-key", key, "-c", "2048", "-np", "1", "-t", "2", "--no-webui"]);
        Self::start(cmd, "listening on http", |_| format!("http://127.0.0.1:{port}/v1"))
    }

    /// The Starlette endpoint, with this API key.
    pub fn starlette(key: &str) -> Self {
        let mut cmd = Command::new(bantam_testkit::openai_python());
        cmd.arg(crate::repo().join("tests/peers/starlette_server.py")).arg(key);
        Self::start(cmd, "listening on", |line| {
            line.split_whitespace()
                .find(|w| w.starts_with("http://"))
                .expect("an address")
                .to_string()
        })
    }

    /// Starts `cmd` and reads its output until a line contains `ready`; `url` makes the
    /// address of that line. Whatever it prints goes to its log.
    fn start(mut cmd: Command, ready: &str, url: impl Fn(&str) -> String) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("peer.log");
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?} starts: {e}"));
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        for pipe in [Box::new(out) as Box<dyn std::io::Read + Send>, Box::new(err)] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        drop(tx);
        let mut seen = Vec::new();
        let mut found = None;
        for line in rx.iter() {
            seen.push(line.clone());
            if line.contains(ready) {
                found = Some(url(&line));
                break;
            }
        }
        let Some(found) = found else {
            panic!("{cmd:?} ended before it listened:\n{}", seen.join("\n"));
        };
        // The rest goes to the log as it comes.
        let log_path = log.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            if let Ok(mut f) = std::fs::File::create(&log_path) {
                for line in seen.iter().cloned().chain(rx.iter()) {
                    let _ = writeln!(f, "{line}");
                }
            }
        });
        Self {
            child,
            url: found,
            log,
            _dir: dir,
        }
    }

    /// Stops it: the endpoint is gone.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}
