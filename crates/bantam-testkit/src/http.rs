//! A real HTTP/1.1 file server on 127.0.0.1 for tests of downloads: serves files by name
//! with or without Range support, can drop the connection part-way once, can be slowed
//! down, and records what was asked. Bounded: it serves only the files it was given and
//! stops when dropped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Answer `Range` requests with 206 (otherwise always the whole file with 200).
    pub ranges: bool,
    /// Close the first connection after this many body bytes.
    pub drop_after: Option<u64>,
    /// Bytes per second per connection.
    pub rate: Option<u64>,
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub path: String,
    pub range_start: Option<u64>,
    pub if_range: Option<String>,
}

pub struct FileServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    files: HashMap<String, Arc<Vec<u8>>>,
    options: ServeOptions,
    dropped: AtomicBool,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FileServer {
    /// Serves `files` (name → path on disk) at `/<name>`.
    pub async fn start(files: &[(&str, &Path)], options: ServeOptions) -> std::io::Result<Self> {
        let mut map = HashMap::new();
        for (name, path) in files {
            map.insert(format!("/{name}"), Arc::new(tokio::fs::read(path).await?));
        }
        Self::serve_bytes(map, options).await
    }

    /// Serves in-memory bodies (name → bytes).
    pub async fn serve_bytes(files: HashMap<String, Arc<Vec<u8>>>, options: ServeOptions) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            files,
            options,
            dropped: AtomicBool::new(false),
            seen: seen.clone(),
        });
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, &shared).await;
                });
            }
        });
        Ok(Self { addr, seen, task })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base_url())
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut byte).await?;
        if n == 0 || buf.len() > 16 << 10 {
            return Ok(());
        }
        buf.extend_from_slice(&byte[..n]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut range_start = None;
    let mut if_range = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "range" => {
                range_start = value
                    .trim()
                    .strip_prefix("bytes=")
                    .and_then(|r| r.split('-').next())
                    .and_then(|s| s.parse::<u64>().ok())
            }
            "if-range" => if_range = Some(value.trim().to_string()),
            _ => {}
        }
    }
    if let Ok(mut seen) = shared.seen.lock() {
        seen.push(Seen {
            path: path.clone(),
            range_start,
            if_range,
        });
    }
    let Some(body) = shared.files.get(&path) else {
        stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found")
            .await?;
        return Ok(());
    };
    let len = body.len() as u64;
    let etag = format!("\"{len:x}-bantam\"");
    let (status, start) = match range_start.filter(|_| shared.options.ranges) {
        Some(start) if start >= len => {
            let head = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            return Ok(());
        }
        Some(start) => (206, start),
        None => (200, 0),
    };
    let mut head = if status == 206 {
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{len}\r\n",
            len - 1
        )
    } else {
        "HTTP/1.1 200 OK\r\n".to_string()
    };
    head.push_str(&format!(
        "Content-Length: {}\r\nContent-Type: application/octet-stream\r\nETag: {etag}\r\n{}Connection: close\r\n\r\n",
        len - start,
        if shared.options.ranges {
            "Accept-Ranges: bytes\r\n"
        } else {
            ""
        }
    ));
    stream.write_all(head.as_bytes()).await?;
    if method == "HEAD" {
        return Ok(());
    }
    let drop_at = shared
        .options
        .drop_after
        .filter(|_| !shared.dropped.swap(true, Ordering::SeqCst));
    let piece = 64 << 10;
    let mut sent = 0u64;
    for chunk in body[start as usize..].chunks(piece) {
        if let Some(at) = drop_at {
            if sent + chunk.len() as u64 > at {
                let keep = (at - sent) as usize;
                stream.write_all(&chunk[..keep]).await?;
                stream.flush().await?;
                // Drop without finishing the body: the client sees a short read.
                return Ok(());
            }
        }
        stream.write_all(chunk).await?;
        sent += chunk.len() as u64;
        if let Some(rate) = shared.options.rate {
            tokio::time::sleep(Duration::from_secs_f64(chunk.len() as f64 / rate as f64)).await;
        }
    }
    stream.flush().await
}
