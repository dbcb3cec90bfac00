//! What Settings shows of the API.

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct ApiStatus {
    /// Where it listens, while it runs (`http://127.0.0.1:8931/v1`).
    pub url: Option<String>,
    /// The bearer token clients send, for the Copy button.
    pub token: Option<String>,
    /// Why it is not running although turned on (the port is taken, …).
    pub error: Option<String>,
}
