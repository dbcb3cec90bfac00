//! What the Inbox and the mail settings send and take.

use bantam_core::tasks::triage::InboxEntry;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Serialize, Clone, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TriageEvent {
    Account { name: String },
    Record { item: Box<InboxEntry>, cached: bool },
    Failed { message: String },
    Done { account: String, fetched: usize },
    Finished,
}

/// Where background triage stands, for the tray and the Inbox header.
#[derive(Serialize, Clone, Default, Debug, PartialEq, TS)]
pub struct MailStatus {
    pub running: bool,
    /// Messages triaged in this run, of `total` fetched so far.
    pub done: usize,
    pub total: usize,
    /// Milliseconds since the epoch.
    pub last_finished: Option<i64>,
    /// New messages the last run triaged (not counting ones stored before).
    pub last_new: usize,
    pub last_error: Option<String>,
    pub next_run: Option<i64>,
}

impl MailStatus {
    /// The line the tray shows while a run is going.
    pub fn tray_line(&self) -> Option<String> {
        self.running.then(|| {
            if self.total == 0 {
                "Checking mail…".to_string()
            } else {
                format!("Triaging mail: {} of {}", self.done, self.total)
            }
        })
    }
}

#[derive(Serialize, TS)]
pub struct InboxView {
    pub items: Vec<InboxEntry>,
    pub categories: Vec<String>,
    pub accounts: usize,
}

/// The mail options Settings shows.
#[derive(Serialize, Deserialize, Clone, Debug, TS)]
pub struct MailOptions {
    pub every_minutes: u32,
    pub notify_urgent: bool,
    pub drafts: bool,
}
