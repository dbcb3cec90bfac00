//! What the Models view shows.

use std::path::PathBuf;

use bantam_core::hardware::Hardware;
use bantam_core::models::fit::Budget;
use bantam_core::models::ModelListing;
use bantam_fetch::DownloadUpdate;
use serde::Serialize;
use ts_rs::TS;

#[derive(Serialize, TS)]
pub struct ModelsOverview {
    pub hardware: Hardware,
    pub budget: Budget,
    pub models: Vec<ModelListing>,
    pub downloads: Vec<DownloadUpdate>,
    /// The model the engine loads now.
    pub current: Option<PathBuf>,
}
