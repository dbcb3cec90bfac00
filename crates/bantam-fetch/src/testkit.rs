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

/// A real Dovecot IMAP server on 127.0.0.1 for tests: IMAPS and STARTTLS listeners, a
/// self-signed certificate (its PEM is `ca_file`), one user with a Maildir. Needs root
/// (imap-login drops to `dovenull`) and Debian's `dovecot-imapd`; stops when dropped.
pub struct Dovecot {
    pub dir: tempfile::TempDir,
    pub imaps_port: u16,
    pub imap_port: u16,
    pub user: String,
    pub password: String,
    pub ca_file: std::path::PathBuf,
    child: std::process::Child,
    uid: u32,
    gid: u32,
    next: std::sync::atomic::AtomicU32,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn system_user(name: &str) -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name) && f.len() > 3)
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .unwrap_or_else(|| panic!("no {name} user: apt install dovecot-imapd"))
}

impl Dovecot {
    pub fn start(messages: &[Vec<u8>]) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temp dir");
        let root = dir.path().to_path_buf();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let (uid, gid) = system_user("dovecot");
        // A test CA and a server certificate it signed (a self-signed CA certificate
        // cannot be the server's own: webpki refuses a CA used as an end entity).
        std::fs::write(
            root.join("server.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )
        .expect("ext");
        let openssl = |args: &[&str]| {
            let status = std::process::Command::new("openssl")
                .args(args)
                .current_dir(&root)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .expect("openssl runs");
            assert!(status.success(), "openssl {args:?} failed");
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Bantam Test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "key.pem",
            "-out",
            "server.csr",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "server.ext",
            "-out",
            "cert.pem",
        ]);
        let home = root.join("home");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(home.join("Maildir").join(sub)).expect("maildir");
        }
        for d in ["run", "state"] {
            std::fs::create_dir_all(root.join(d)).expect("dirs");
        }
        let (imaps_port, imap_port) = (free_port(), free_port());
        let user = "test".to_string();
        let password = "correct horse".to_string();
        std::fs::write(
            root.join("passwd"),
            format!("{user}:{{PLAIN}}{password}:{uid}:{gid}::{}::\n", home.display()),
        )
        .expect("passwd");
        let conf = format!(
            "base_dir = {r}/run\nstate_dir = {r}/state\nlog_path = {r}/dovecot.log\nprotocols = imap\n\
             listen = 127.0.0.1\nssl = yes\nssl_cert = <{r}/cert.pem\nssl_key = <{r}/key.pem\n\
             default_login_user = dovenull\ndefault_internal_user = dovecot\nfirst_valid_uid = {uid}\n\
             mail_location = maildir:~/Maildir\nauth_mechanisms = plain\ndisable_plaintext_auth = no\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {r}/passwd\n}}\n\
             userdb {{\n  driver = passwd-file\n  args = {r}/passwd\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap_port}\n  }}\n\
               inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps_port}\n    ssl = yes\n  }}\n}}\n",
            r = root.display()
        );
        std::fs::write(root.join("dovecot.conf"), conf).expect("conf");
        let server = Self {
            ca_file: root.join("ca.pem"),
            dir,
            imaps_port,
            imap_port,
            user,
            password,
            child: std::process::Command::new("dovecot")
                .arg("-F")
                .arg("-c")
                .arg(root.join("dovecot.conf"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("dovecot starts (apt install dovecot-imapd)"),
            uid,
            gid,
            next: std::sync::atomic::AtomicU32::new(0),
        };
        for m in messages {
            server.deliver(m);
        }
        server.chown_all();
        // Ready when both listeners accept.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        for port in [imaps_port, imap_port] {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "dovecot did not start: {}",
                    server.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        server
    }

    fn maildir(&self) -> std::path::PathBuf {
        self.dir.path().join("home/Maildir")
    }

    /// Puts a message in the inbox's `new/`, as a delivery agent would.
    pub fn deliver(&self, message: &[u8]) {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let tmp = self.maildir().join("tmp").join(format!("17000{n:05}.bantam"));
        std::fs::write(&tmp, message).expect("write message");
        let new = self.maildir().join("new").join(format!("17000{n:05}.bantam"));
        std::fs::rename(&tmp, &new).expect("deliver");
        self.chown_all();
    }

    /// Forgets the UIDs Dovecot gave out, so the folder gets a new UIDVALIDITY (as after a
    /// server migration).
    pub fn reset_uids(&self) {
        for entry in std::fs::read_dir(self.maildir()).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with("dovecot") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        // UIDVALIDITY is a timestamp: make sure the new one differs.
        std::thread::sleep(Duration::from_millis(1100));
    }

    fn chown_all(&self) {
        fn walk(p: &std::path::Path, uid: u32, gid: u32) {
            let _ = std::os::unix::fs::chown(p, Some(uid), Some(gid));
            if p.is_dir() {
                for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                    walk(&e.path(), uid, gid);
                }
            }
        }
        walk(&self.dir.path().join("home"), self.uid, self.gid);
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM, so the master takes its imap and auth processes down with it.
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A TCP relay on 127.0.0.1 to another local port that cuts its first connection after
/// forwarding `drop_after` bytes from the server: a server that drops mid-transfer.
pub struct DroppingRelay {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl DroppingRelay {
    pub async fn start(target_port: u16, drop_after: u64) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let dropped = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let cut = !dropped.swap(true, Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut cr, &mut sw).await;
                    });
                    let mut sent = 0u64;
                    let mut buf = vec![0u8; 16 << 10];
                    loop {
                        let n = match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if cut && sent + n as u64 > drop_after {
                            let keep = (drop_after - sent) as usize;
                            let _ = cw.write_all(&buf[..keep]).await;
                            break;
                        }
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        sent += n as u64;
                    }
                    up.abort();
                });
            }
        });
        Ok(Self { port, task })
    }
}

impl Drop for DroppingRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
