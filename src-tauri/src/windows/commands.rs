//! Window actions the pages ask for.

use tauri::AppHandle;

use crate::error::AppResult;
use crate::shell::windows;

/// Opens (or focuses) the main window, optionally on a conversation or view.
#[tauri::command]
pub async fn open_main(app: AppHandle, conversation_id: Option<i64>, view: Option<String>) -> AppResult<()> {
    windows::show_main(&app, conversation_id, view.as_deref())?;
    Ok(())
}

#[tauri::command]
pub async fn popup_hide(app: AppHandle) -> AppResult<()> {
    windows::hide_popup(&app);
    Ok(())
}
