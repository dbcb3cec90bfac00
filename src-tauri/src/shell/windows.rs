//! Windows. The popup is created hidden at start (so the hotkey shows it at once); the
//! main window is created when opened and destroyed when closed, since every webview is
//! its own WebKit process (~120 MB) and a tray app should idle small.

use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

pub const MAIN: &str = "main";
pub const POPUP: &str = "popup";

pub fn create_popup(app: &AppHandle) -> tauri::Result<WebviewWindow> {
    WebviewWindowBuilder::new(app, POPUP, WebviewUrl::App("popup.html".into()))
        .title("Bantam quick ask")
        .inner_size(640.0, 360.0)
        .decorations(false)
        .always_on_top(true)
        .skip_taskbar(true)
        .resizable(false)
        .visible(false)
        .center()
        .build()
}

pub fn show_main(app: &AppHandle, conversation: Option<i64>, view: Option<&str>) -> tauri::Result<()> {
    if let Some(window) = app.get_webview_window(MAIN) {
        window.show()?;
        window.unminimize()?;
        window.set_focus()?;
        if conversation.is_some() || view.is_some() {
            window.emit(
                "navigate",
                crate::windows::dto::Navigate {
                    conversation,
                    view: view.map(str::to_string),
                },
            )?;
        }
        return Ok(());
    }
    let mut url = String::from("index.html");
    if let Some(id) = conversation {
        url.push_str(&format!("?conversation={id}"));
    } else if let Some(view) = view {
        url.push_str(&format!("?view={view}"));
    }
    WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App(url.into()))
        .title("Bantam")
        .inner_size(1040.0, 720.0)
        .min_inner_size(640.0, 420.0)
        .center()
        .build()?;
    Ok(())
}

pub fn toggle_popup(app: &AppHandle) {
    let Some(popup) = app.get_webview_window(POPUP) else {
        return;
    };
    if popup.is_visible().unwrap_or(false) {
        hide_popup(app);
        return;
    }
    // Centre on the monitor under the cursor: where the person is working.
    let monitor = app
        .cursor_position()
        .ok()
        .and_then(|p| app.monitor_from_point(p.x, p.y).ok().flatten())
        .or_else(|| popup.current_monitor().ok().flatten());
    if let (Some(monitor), Ok(size)) = (monitor, popup.outer_size()) {
        let area = monitor.position();
        let screen = monitor.size();
        let x = area.x + (screen.width as i32 - size.width as i32) / 2;
        let y = area.y + (screen.height as i32 - size.height as i32) / 3;
        let _ = popup.set_position(tauri::PhysicalPosition::new(x, y));
    }
    let _ = popup.show();
    let _ = popup.set_focus();
    let _ = popup.emit("popup-shown", ());
}

pub fn hide_popup(app: &AppHandle) {
    if let Some(popup) = app.get_webview_window(POPUP) {
        let _ = popup.hide();
    }
}
