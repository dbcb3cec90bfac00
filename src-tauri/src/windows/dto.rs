//! What the window commands send.

use serde::Serialize;
use ts_rs::TS;

/// Sent to an open main window as `navigate`: open a conversation or a view.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Navigate {
    pub conversation: Option<i64>,
    pub view: Option<String>,
}
