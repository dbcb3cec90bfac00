//! `bantam bench app`: the desktop app's own numbers, under a private Xvfb display and
//! D-Bus session — cold start to the main window mapped, the hotkey to the quick-ask
//! popup mapped (key presses sent to the X server with XTEST, the map seen as an X
//! event), and idle memory (PSS of the app's whole process tree, WebKit's processes
//! included) with and without a model, window open and closed to the tray. Linux/X11.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use serde::Serialize;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ChangeWindowAttributesAux, ClientMessageEvent, ConnectionExt as _, EventMask, MapState, Window,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use crate::{Output, Setup};

#[derive(clap::Args, Debug)]
pub struct AppArgs {
    /// The app's binary (default: `bantam-app` next to this `bantam`)
    #[arg(long, value_name = "PATH")]
    pub app: Option<PathBuf>,
    /// Cold starts to time (median reported)
    #[arg(long, default_value_t = 5)]
    pub starts: usize,
    /// Hotkey presses to time (the first, which also realizes the window, is left out)
    #[arg(long, default_value_t = 21)]
    pub presses: usize,
    /// Seconds to let the app settle before reading its memory (the model loads in the
    /// background meanwhile)
    #[arg(long, default_value_t = 5)]
    pub settle: u64,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Serialize)]
struct Report {
    app: PathBuf,
    binary_bytes: u64,
    cold_start_ms: Vec<f64>,
    cold_start_median_ms: f64,
    hotkey_ms: Vec<f64>,
    hotkey_median_ms: f64,
    hotkey_p90_ms: f64,
    /// PSS of the whole process tree, MB.
    idle_no_model_window_mb: f64,
    idle_no_model_tray_mb: f64,
    idle_model_window_mb: f64,
    idle_model_tray_mb: f64,
    /// Per process at the last measurement (tray only, model loaded).
    tray_breakdown: Vec<(String, f64)>,
}

const MAIN_TITLE: &str = "Bantam";
const POPUP_TITLE: &str = "Bantam quick ask";
// Keysyms (X11/keysymdef.h).
const CONTROL_L: u32 = 0xffe3;
const ALT_L: u32 = 0xffe9;
const SPACE: u32 = 0x0020;

pub async fn run(setup: &Setup, args: &AppArgs) -> Result<u8> {
    let app = match &args.app {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the bantam binary's folder")?
            .join("bantam-app"),
    };
    if !app.is_file() {
        bail!(
            "no app at {}: build it (cargo build -p bantam-app) or pass --app PATH",
            app.display()
        );
    }
    let model = setup.model.clone();
    let (starts, presses, settle) = (args.starts.max(1), args.presses.max(2), args.settle);
    let report = tokio::task::spawn_blocking(move || measure(&app, &model, starts, presses, settle)).await??;
    args.output.write(&report)?;
    if !args.output.json {
        print(&report);
    }
    Ok(0)
}

fn print(r: &Report) {
    println!("binary: {:.1} MB ({})", r.binary_bytes as f64 / 1e6, r.app.display());
    println!(
        "cold start to main window mapped: median {:.0} ms (runs: {})",
        r.cold_start_median_ms,
        r.cold_start_ms
            .iter()
            .map(|s| format!("{s:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "hotkey -> popup mapped: median {:.1} ms, p90 {:.1} ms over {} presses",
        r.hotkey_median_ms,
        r.hotkey_p90_ms,
        r.hotkey_ms.len()
    );
    println!(
        "idle PSS, no model, main window open: {:.0} MB",
        r.idle_no_model_window_mb
    );
    println!("idle PSS, no model, tray only: {:.0} MB", r.idle_no_model_tray_mb);
    println!(
        "idle PSS, model loaded, main window open: {:.0} MB",
        r.idle_model_window_mb
    );
    println!(
        "idle PSS, model loaded, tray only: {:.0} MB ({})",
        r.idle_model_tray_mb,
        r.tray_breakdown
            .iter()
            .map(|(n, mb)| format!("{n} {mb:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// A child process ended when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The app asked to end as the tray's Quit would not be reachable here: SIGTERM.
fn terminate(mut child: Running) {
    let _ = Command::new("kill").arg("-TERM").arg(child.0.id().to_string()).status();
    let _ = child.0.wait();
}

fn spawn_reading_line(cmd: &mut Command, what: &str) -> Result<(Running, String)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    Ok((Running(child), line.trim().to_string()))
}

struct Desktop {
    _xvfb: Running,
    _dbus: Running,
    display: String,
    bus: String,
    home: tempfile::TempDir,
}

impl Desktop {
    fn start() -> Result<Self> {
        let (xvfb, n) = spawn_reading_line(
            Command::new("Xvfb").args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"]),
            "Xvfb (apt install xvfb)",
        )?;
        let (dbus, bus) = spawn_reading_line(
            Command::new("dbus-daemon").args(["--session", "--nofork", "--print-address=1"]),
            "dbus-daemon (apt install dbus)",
        )?;
        Ok(Self {
            _xvfb: xvfb,
            _dbus: dbus,
            display: format!(":{n}"),
            bus,
            home: tempfile::tempdir()?,
        })
    }

    fn launch(&self, app: &Path, data: &str, model: Option<&Path>) -> Result<(Running, Instant)> {
        let home = self.home.path();
        let mut cmd = Command::new(app);
        cmd.env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("share"))
            .env("BANTAM_DATA_DIR", home.join(data))
            .env_remove("BANTAM_MODEL")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(m) = model {
            cmd.env("BANTAM_MODEL", m);
        }
        let started = Instant::now();
        Ok((
            Running(cmd.spawn().with_context(|| format!("starting {}", app.display()))?),
            started,
        ))
    }
}

struct X {
    conn: RustConnection,
    root: Window,
}

impl X {
    fn connect(display: &str) -> Result<Self> {
        let (conn, screen) = x11rb::connect(Some(display)).context("connecting to Xvfb")?;
        let root = conn.setup().roots[screen].root;
        // Map notifications of every top-level window.
        conn.change_window_attributes(
            root,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::SUBSTRUCTURE_NOTIFY),
        )?
        .check()?;
        Ok(Self { conn, root })
    }

    fn title(&self, w: Window) -> Option<String> {
        let reply = self
            .conn
            .get_property(false, w, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 256)
            .ok()?
            .reply()
            .ok()?;
        Some(String::from_utf8_lossy(&reply.value).into_owned())
    }

    fn window_named(&self, name: &str) -> Option<Window> {
        let tree = self.conn.query_tree(self.root).ok()?.reply().ok()?;
        tree.children
            .into_iter()
            .find(|&w| self.title(w).as_deref() == Some(name))
    }

    fn viewable(&self, w: Window) -> bool {
        self.conn
            .get_window_attributes(w)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|a| a.map_state == MapState::VIEWABLE)
    }

    /// When a top-level window with this title was mapped (now, if it already is).
    fn wait_map(&self, name: &str, timeout: Duration) -> Result<Instant> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            while let Some(event) = self.conn.poll_for_event()? {
                if let Event::MapNotify(e) = event {
                    if self.title(e.window).as_deref() == Some(name) {
                        return Ok(Instant::now());
                    }
                }
            }
            if self.window_named(name).is_some_and(|w| self.viewable(w)) {
                return Ok(Instant::now());
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        bail!("no window \"{name}\" was shown within {} s", timeout.as_secs())
    }

    fn wait_unmap(&self, w: Window) -> Result<()> {
        let end = Instant::now() + Duration::from_secs(10);
        while self.viewable(w) {
            if Instant::now() > end {
                bail!("the popup stayed open");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    fn keycode(&self, keysym: u32) -> Result<u8> {
        let setup = self.conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let map = self.conn.get_keyboard_mapping(min, max - min + 1)?.reply()?;
        let per = map.keysyms_per_keycode as usize;
        map.keysyms
            .chunks(per.max(1))
            .position(|syms| syms.contains(&keysym))
            .map(|i| min + i as u8)
            .with_context(|| format!("no key for keysym {keysym:#x}"))
    }

    /// Presses the keys down in order and releases them in reverse, as a person does.
    fn press(&self, keys: &[u8]) -> Result<()> {
        const KEY_PRESS: u8 = 2;
        const KEY_RELEASE: u8 = 3;
        for &k in keys {
            self.conn.xtest_fake_input(KEY_PRESS, k, 0, self.root, 0, 0, 0)?;
        }
        for &k in keys.iter().rev() {
            self.conn.xtest_fake_input(KEY_RELEASE, k, 0, self.root, 0, 0, 0)?;
        }
        self.conn.sync()?;
        Ok(())
    }

    /// Asks a window to close, as a window manager's close button does.
    fn close(&self, w: Window) -> Result<()> {
        let protocols = self.conn.intern_atom(false, b"WM_PROTOCOLS")?.reply()?.atom;
        let delete = self.conn.intern_atom(false, b"WM_DELETE_WINDOW")?.reply()?.atom;
        let event = ClientMessageEvent::new(32, w, protocols, [delete, 0, 0, 0, 0]);
        self.conn.send_event(false, w, EventMask::NO_EVENT, event)?;
        self.conn.sync()?;
        Ok(())
    }
}

/// The process and its descendants, from /proc.
fn process_tree(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // The parent is the second field after the parenthesised name.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|f| f.parse().ok());
            if let Some(ppid) = ppid {
                parents.push((p, ppid));
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(parents.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    tree
}

/// PSS of each process in the tree, MB.
fn pss(pid: u32) -> Vec<(String, f64)> {
    process_tree(pid)
        .into_iter()
        .filter_map(|p| {
            let name = std::fs::read_to_string(format!("/proc/{p}/comm")).ok()?;
            let rollup = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).ok()?;
            let kb: f64 = rollup
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some((name.trim().to_string(), kb / 1024.0))
        })
        .collect()
}

fn total(parts: &[(String, f64)]) -> f64 {
    parts.iter().map(|(_, mb)| mb).sum()
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or_default()
}

fn measure(app: &Path, model: &Path, starts: usize, presses: usize, settle_secs: u64) -> Result<Report> {
    let desktop = Desktop::start()?;
    let x = X::connect(&desktop.display)?;
    let settle = |extra: u64| std::thread::sleep(Duration::from_secs(settle_secs + extra));

    let mut cold = Vec::new();
    for i in 0..starts {
        let (child, started) = desktop.launch(app, &format!("start{i}"), Some(model))?;
        cold.push((x.wait_map(MAIN_TITLE, Duration::from_secs(60))? - started).as_secs_f64() * 1000.0);
        terminate(child);
        std::thread::sleep(Duration::from_millis(500));
    }

    // Idle without a model: an empty data directory, nothing to load.
    let (child, _) = desktop.launch(app, "nomodel", None)?;
    x.wait_map(MAIN_TITLE, Duration::from_secs(60))?;
    settle(0);
    let no_model_window = total(&pss(child.0.id()));
    x.close(x.window_named(MAIN_TITLE).context("the main window")?)?;
    settle(0);
    let no_model_tray = total(&pss(child.0.id()));
    terminate(child);

    let (child, _) = desktop.launch(app, "model", Some(model))?;
    x.wait_map(MAIN_TITLE, Duration::from_secs(60))?;
    // The model loads in the background.
    settle(1);
    let model_window = total(&pss(child.0.id()));
    let hotkey = [x.keycode(CONTROL_L)?, x.keycode(ALT_L)?, x.keycode(SPACE)?];
    let mut lat = Vec::new();
    for i in 0..presses {
        let sent = Instant::now();
        x.press(&hotkey)?;
        let shown = x.wait_map(POPUP_TITLE, Duration::from_secs(5))?;
        // The first show also realizes the window.
        if i > 0 {
            lat.push((shown - sent).as_secs_f64() * 1000.0);
        }
        let popup = x.window_named(POPUP_TITLE).context("the popup")?;
        std::thread::sleep(Duration::from_millis(200));
        // The hotkey again hides it.
        x.press(&hotkey)?;
        x.wait_unmap(popup)?;
        std::thread::sleep(Duration::from_millis(200));
    }
    if let Some(w) = x.window_named(MAIN_TITLE) {
        x.close(w)?;
    }
    settle(0);
    let breakdown = pss(child.0.id());
    terminate(child);

    let mut sorted = lat.clone();
    sorted.sort_by(f64::total_cmp);
    let p90 = sorted[(sorted.len() * 9 / 10).saturating_sub(1).min(sorted.len() - 1)];
    Ok(Report {
        app: app.to_path_buf(),
        binary_bytes: std::fs::metadata(app)?.len(),
        cold_start_median_ms: median(&cold),
        cold_start_ms: cold,
        hotkey_median_ms: median(&lat),
        hotkey_p90_ms: p90,
        hotkey_ms: lat,
        idle_no_model_window_mb: no_model_window,
        idle_no_model_tray_mb: no_model_tray,
        idle_model_window_mb: model_window,
        idle_model_tray_mb: total(&breakdown),
        tray_breakdown: breakdown,
    })
}
