//! A private D-Bus session with an unlocked GNOME Keyring: the Secret Service the OS
//! keyring is on Linux desktops, for tests of mail account passwords.

use std::process::{Command, Stdio};

/// A private D-Bus session with an unlocked GNOME Keyring (the Secret Service the OS
/// keyring is on Linux desktops); stopped when dropped. Commands that should reach it get
/// `DBUS_SESSION_BUS_ADDRESS = address`.
pub struct PrivateKeyring {
    pub address: String,
    _home: tempfile::TempDir,
    bus: std::process::Child,
    keyring: std::process::Child,
}

impl PrivateKeyring {
    pub fn start() -> Self {
        use std::io::{BufRead, BufReader, Write};
        let home = tempfile::tempdir().unwrap();
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (apt install dbus)");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_string();
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (apt install gnome-keyring)");
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"keyring password").unwrap();
        drop(stdin);
        // Ready once the Secret Service name is on the bus.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let listed = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                ])
                .arg("org.freedesktop.DBus.ListNames")
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains("org.freedesktop.secrets"))
                .unwrap_or(false);
            if listed {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the keyring did not come up");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Self {
            address,
            _home: home,
            bus,
            keyring,
        }
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}
