//! What Settings shows.

use std::path::PathBuf;

use bantam_core::store::settings::AppSettings;
use serde::Serialize;
use ts_rs::TS;

#[derive(Serialize, TS)]
pub struct SettingsView {
    #[serde(flatten)]
    pub settings: AppSettings,
    pub default_model: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// Why the hotkey is not active, when the OS refused it.
    pub hotkey_error: Option<String>,
}
