//! A real Dovecot IMAP server on loopback, for the mail tests.

use std::time::Duration;

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
