//! Runs the real app under a private Xvfb display and D-Bus session, driven through
//! `tauri-driver` + WebKitWebDriver (WebDriver), with the real test model.
//!
//! Needs: Xvfb, dbus-daemon, WebKitWebDriver (Debian's webkit2gtk-driver), xdotool, and
//! `tauri-driver` on PATH or in `BANTAM_TAURI_DRIVER`. `scripts/test.sh` installs them.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use bantam_testkit::test_model;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// Ports free right now, all different: the listeners are held until every port is
/// chosen (two binds one after the other can get the same port back).
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("a bound port").port())
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A display and a session bus, shared by the app sessions of one test.
pub struct Desktop {
    pub display: String,
    pub dbus: String,
    _xvfb: Killed,
    _dbus: Killed,
    _keyring: Killed,
    pub home: tempfile::TempDir,
}

impl Desktop {
    pub fn start() -> Self {
        let mut xvfb = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts (apt install xvfb)");
        let mut line = String::new();
        BufReader::new(xvfb.stdout.take().expect("Xvfb stdout"))
            .read_line(&mut line)
            .expect("Xvfb prints its display");
        let display = format!(":{}", line.trim());
        let xvfb = Killed(xvfb);

        let mut dbus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts (apt install dbus)");
        let mut address = String::new();
        BufReader::new(dbus.stdout.take().expect("dbus stdout"))
            .read_line(&mut address)
            .expect("dbus prints its address");
        let home = tempfile::tempdir().expect("a temp home");
        // An unlocked GNOME Keyring on the session bus: the Secret Service where the app
        // keeps mail passwords, as on a desktop.
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", address.trim())
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("share"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts (apt install gnome-keyring)");
        if let Some(mut stdin) = keyring.stdin.take() {
            use std::io::Write;
            let _ = stdin.write_all(b"keyring password");
        }
        Desktop {
            display,
            dbus: address.trim().to_string(),
            _xvfb: xvfb,
            _dbus: Killed(dbus),
            _keyring: Killed(keyring),
            home,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// Starts dunst, a real notification daemon, on this display and bus.
    pub fn start_notifications(&self) -> Notifications {
        let child = Command::new("dunst")
            .args(["-config", "/dev/null"])
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.dbus)
            .env("HOME", self.home.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst starts (apt install dunst)");
        Notifications {
            _daemon: Killed(child),
            display: self.display.clone(),
            dbus: self.dbus.clone(),
        }
    }

    /// Sends keys to the X server, as a person pressing them would.
    pub fn xdotool(&self, args: &[&str]) {
        let status = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .status()
            .expect("xdotool runs (apt install xdotool)");
        assert!(status.success(), "xdotool {args:?} failed");
    }

    /// Whether a window with this exact title is mapped (visible) on the display.
    pub fn window_visible(&self, title: &str) -> bool {
        Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", &format!("^{title}$")])
            .env("DISPLAY", &self.display)
            .output()
            .map(|o| o.status.success() && !o.stdout.is_empty())
            .unwrap_or(false)
    }

    /// Starts the app through tauri-driver and connects a WebDriver session to it.
    pub async fn launch(&self) -> App {
        self.launch_with(&[("BANTAM_MODEL", Some(test_model().display().to_string()))])
            .await
    }

    /// Like [`Desktop::launch`], with these variables set (`Some`) or unset (`None`);
    /// without `BANTAM_MODEL` the app starts on what its settings say.
    pub async fn launch_with(&self, vars: &[(&str, Option<String>)]) -> App {
        let log_path = self.home.path().join("driver.log");
        for attempt in 1..=3 {
            let [port, native_port] = free_ports();
            let driver = self.spawn_driver(vars, port, native_port, &log_path);
            match connect(port, &log_path).await {
                Ok(client) => {
                    let app = App {
                        client,
                        _driver: driver,
                    };
                    // The session starts on the first webview, the hidden popup; tests
                    // start in the main window.
                    app.switch_to("Bantam").await;
                    return app;
                }
                // Another process took a chosen port before the driver bound it.
                Err(log) if log.contains("Unable to listen") && attempt < 3 => continue,
                Err(log) => panic!("no WebDriver session: {log}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn spawn_driver(&self, vars: &[(&str, Option<String>)], port: u16, native_port: u16, log: &Path) -> Killed {
        let driver = std::env::var_os("BANTAM_TAURI_DRIVER").unwrap_or_else(|| "tauri-driver".into());
        let mut child = Command::new(&driver);
        child
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.dbus)
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("XDG_DATA_HOME", self.home.path().join("share"))
            .env("BANTAM_DATA_DIR", self.data_dir())
            .env_remove("BANTAM_MODEL")
            // No background mail checks unless a test asks for them.
            .env("BANTAM_MAIL_EVERY_SECS", "0")
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            // A file, not a pipe: nobody reads a pipe while the app runs, and once its
            // buffer is full the app blocks on its next log line.
            .stderr(std::fs::File::create(log).expect("create the driver log"));
        for (name, value) in vars {
            match value {
                Some(v) => child.env(name, v),
                None => child.env_remove(name),
            };
        }
        Killed(
            child
                .spawn()
                .unwrap_or_else(|e| panic!("{driver:?} starts ({e}); cargo install tauri-driver --version ^2")),
        )
    }
}

/// A WebDriver session with the app behind the driver on `port`; the driver's log when
/// none starts within 30 s, or as soon as the log says a port was taken.
async fn connect(port: u16, log: &Path) -> Result<Client, String> {
    let url = format!("http://127.0.0.1:{port}");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": crate::bin("bantam-app") }),
    );
    caps.insert("browserName".into(), "wry".into());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => return Ok(c),
            Err(e) => {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                if Instant::now() >= deadline || text.contains("Unable to listen") {
                    return Err(format!("{e}\n{text}"));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// A notification daemon; what it was asked to show.
pub struct Notifications {
    _daemon: Killed,
    display: String,
    dbus: String,
}

impl Notifications {
    fn dunstctl(&self, args: &[&str]) -> String {
        Command::new("dunstctl")
            .args(args)
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.dbus)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default()
    }

    /// The titles (summaries) of every notification shown so far.
    pub fn titles(&self) -> Vec<String> {
        // The history holds closed notifications; close the ones on screen first.
        self.dunstctl(&["close-all"]);
        let history: serde_json::Value = serde_json::from_str(&self.dunstctl(&["history"])).unwrap_or_default();
        history["data"][0]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|n| n["summary"]["data"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub struct App {
    pub client: Client,
    _driver: Killed,
}

/// How long a step may take: a minute on the test model; `BANTAM_APP_WAIT` (seconds)
/// for a real model on this CPU (screenshots of its output).
pub fn wait() -> Duration {
    let secs = std::env::var("BANTAM_APP_WAIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

impl App {
    /// Points the session at the webview whose page has this title.
    pub async fn switch_to(&self, title: &str) {
        let deadline = Instant::now() + wait();
        loop {
            for handle in self.client.windows().await.unwrap_or_default() {
                if self.client.switch_to_window(handle).await.is_ok()
                    && self.client.title().await.unwrap_or_default() == title
                {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "no window titled {title}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(wait())
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    /// The element's `textContent` (WebKit's WebDriver text can lag behind the DOM).
    pub async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        let arg = serde_json::to_value(&el).expect("element reference");
        match self.client.execute("return arguments[0].textContent", vec![arg]).await {
            Ok(serde_json::Value::String(s)) => s,
            other => panic!("reading {css}: {other:?}"),
        }
    }

    /// Polls a script until it returns true.
    pub async fn until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + wait();
        loop {
            let v = self.client.execute(script, vec![]).await;
            if let Ok(serde_json::Value::Bool(true)) = v {
                return;
            }
            if Instant::now() > deadline {
                let status = self.client.execute("return document.body.innerText", vec![]).await;
                panic!("timed out waiting for {what}; page: {status:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Like [`App::until`] for long work that shows its progress: the wait ends in a
    /// timeout only when `progress` (a script returning a string) has not changed for
    /// the usual wait — five messages triaged with drafts on a busy machine take longer
    /// than one step, and still advance. Five waits at most in all.
    pub async fn until_advancing(&self, what: &str, script: &str, progress: &str) {
        let cap = Instant::now() + 5 * wait();
        let mut deadline = Instant::now() + wait();
        let mut last = None;
        loop {
            if let Ok(serde_json::Value::Bool(true)) = self.client.execute(script, vec![]).await {
                return;
            }
            let now = self.client.execute(progress, vec![]).await.ok();
            if now != last {
                last = now;
                deadline = (Instant::now() + wait()).min(cap);
            }
            if Instant::now() > deadline {
                let status = self.client.execute("return document.body.innerText", vec![]).await;
                panic!(
                    "timed out waiting for {what} (no progress for {:?}); page: {status:?}",
                    wait()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Until the model is ready and the page has finished starting (it opens its first
    /// view last).
    pub async fn wait_ready(&self) {
        self.until(
            "the model to be ready",
            "return document.getElementById('status')?.dataset.state === 'ready' && \
               document.body.dataset.started === 'true'",
        )
        .await;
    }

    /// Until the first answer in the chat has stopped streaming and says how it ended.
    pub async fn wait_answer(&self) {
        self.until(
            "the answer to finish",
            "const a = document.querySelector('.message.assistant'); \
             return !!a && !a.classList.contains('streaming') && a.dataset.finish !== undefined",
        )
        .await;
    }

    /// Types into a field once it is shown. A window just started may not be the
    /// active one yet under load, and WebKit then refuses focus ("Element is not
    /// focusable"): the field is focused by script and clicked (which activates the
    /// window) and the typing retried for up to 30 s, nothing else. A failure says what
    /// had the focus and which view was shown.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.until(
            &format!("{css} to be shown"),
            &format!("const e = document.querySelector({css:?}); return !!e && e.getClientRects().length > 0"),
        )
        .await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let el = self.find(css).await;
            el.clear().await.ok();
            match el.send_keys(text).await {
                Ok(()) => return,
                Err(e) if Instant::now() < deadline && e.to_string().contains("not focusable") => {
                    if let Ok(arg) = serde_json::to_value(&el) {
                        self.client.execute("arguments[0].focus()", vec![arg]).await.ok();
                    }
                    el.click().await.ok();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("typing into {css}: {e}; {}", self.focus_state(css).await),
            }
        }
    }

    /// Where the focus is, whether the page has it, and which views are shown.
    async fn focus_state(&self, css: &str) -> String {
        let script = format!(
            "const e = document.querySelector({css:?}); const a = document.activeElement; \
             return JSON.stringify({{shown: !!e && e.getClientRects().length > 0, disabled: !!e && !!e.disabled, \
               active: a ? (a.id || a.tagName) : null, hasFocus: document.hasFocus(), \
               visibility: document.visibilityState, \
               views: [...document.querySelectorAll('[id$=\"-view\"]')].filter(v => !v.hidden).map(v => v.id)}});"
        );
        format!("{:?}", self.client.execute(&script, vec![]).await)
    }

    /// Clicks a button that shows a view, until the view is shown. A click can be lost
    /// while a window just started becomes the active one; clicking again is what a
    /// user does, and the button only shows the view.
    pub async fn open(&self, button: &str, view: &str) {
        let deadline = Instant::now() + wait();
        loop {
            self.click(button).await;
            let shown = Instant::now() + Duration::from_secs(5);
            while Instant::now() < shown {
                let script = format!("return !document.getElementById({view:?}).hidden");
                if let Ok(serde_json::Value::Bool(true)) = self.client.execute(&script, vec![]).await {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(
                Instant::now() < deadline,
                "{view} not shown after clicking {button}: {}",
                self.focus_state(button).await
            );
        }
    }

    /// Clicks an element. One re-rendered or covered at that instant (a list refreshed
    /// under load) is found again and retried for a few seconds, nothing else.
    pub async fn click(&self, css: &str) {
        let mut tries = 0;
        loop {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(e) if tries < 50 && is_transient(&e.to_string()) => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("clicking {css}: {e}"),
            }
        }
    }

    /// Saves a screenshot (for the docs; only when asked for). WebKit's WebDriver has been
    /// seen never to answer one (right after a click that re-ran a search): after 30 s the
    /// picture is given up, with a note, rather than the test.
    pub async fn screenshot(&self, path: &Path) {
        match tokio::time::timeout(Duration::from_secs(30), self.client.screenshot()).await {
            Ok(Ok(png)) => {
                let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")));
                let _ = std::fs::write(path, png);
            }
            Ok(Err(e)) => eprintln!("no screenshot {}: {e}", path.display()),
            Err(_) => eprintln!("no screenshot {}: WebDriver did not answer in 30 s", path.display()),
        }
    }

    pub async fn quit(self) {
        let _ = self.client.close().await;
    }
}

/// WebDriver errors that name a moment, not a fault: the element was replaced, covered or
/// not yet interactable, or the driver gave up waiting on a busy webview (an error with
/// no message, seen with a real model on two cores). A click repeated here is one the
/// page handles twice the same way (a form re-submitted, a tab opened again).
fn is_transient(error: &str) -> bool {
    error.trim_end().ends_with("error:")
        || ["stale element", "not interactable", "intercepted"]
            .iter()
            .any(|m| error.contains(m))
}
