//! What the Tiers panel shows.

use bantam_core::tiers::TierSettings;
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
pub struct TiersView {
    pub settings: TierSettings,
    /// A key for the remote endpoint is kept (the key itself never reaches a page).
    pub remote_key: bool,
}
