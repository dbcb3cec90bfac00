//! `bantam serve` as tests run it: on a model, a free loopback port, its own data dir;
//! killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::cli::bantam;

pub struct Server {
    child: Child,
    /// Up to `/v1`.
    pub url: String,
    pub token: String,
    pub data: tempfile::TempDir,
}

impl Server {
    /// Serves `model` with `parallel` slots of 4096 tokens; returns once it listens.
    pub fn start(model: &Path, parallel: usize) -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(data.path().join("serve.log")).expect("log");
        let mut child = bantam(data.path())
            .args(["serve", "--port", "0", "--parallel", &parallel.to_string(), "--model"])
            .arg(model)
            .env("BANTAM_CTX_SIZE", "4096")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("bantam serve starts");
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut first).expect("the address line");
        // Keep reading what else it prints, as a terminal would.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}: {}", read_log(data.path())))
            .to_string();
        assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/v1"), "{url}");
        let token = std::fs::read_to_string(data.path().join("api-token"))
            .expect("the token file")
            .trim()
            .to_string();
        Self {
            child,
            url,
            token,
            data,
        }
    }

    /// curl with the given arguments: (body, HTTP status).
    pub fn curl(&self, args: &[&str]) -> (String, String) {
        let out = Command::new("curl")
            .args(["-sS", "-N", "--max-time", "120", "-w", "\n%{http_code}"])
            .args(args)
            .output()
            .expect("curl runs (install-deps.sh --test installs it)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or((&text, ""));
        (body.to_string(), status.to_string())
    }

    /// Stops it now (a tier that goes down).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        read_log(self.data.path())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn read_log(data: &Path) -> String {
    std::fs::read_to_string(data.join("serve.log")).unwrap_or_default()
}
