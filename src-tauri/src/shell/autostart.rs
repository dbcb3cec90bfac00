//! Launch at login, through tauri-plugin-autostart (a .desktop file in ~/.config/autostart
//! on Linux, a LaunchAgent on macOS). Started that way, the app stays in the tray.

use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt;

pub const HIDDEN_FLAG: &str = "--hidden";

pub fn set(app: &AppHandle, enabled: bool) -> Result<(), tauri_plugin_autostart::Error> {
    let manager = app.autolaunch();
    if enabled {
        manager.enable()
    } else {
        manager.disable()
    }
}
