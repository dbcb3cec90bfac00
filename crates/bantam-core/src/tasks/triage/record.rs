//! What triage says of a message, what the user tells it (rules, options), and what a run
//! reports per message.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::Error;
use crate::mail::MailMessage;

pub const DEFAULT_CATEGORIES: [&str; 10] = [
    "personal",
    "work",
    "finance",
    "travel",
    "shopping",
    "newsletter",
    "promotion",
    "social",
    "notification",
    "spam",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Priority4 {
    Urgent,
    High,
    Normal,
    Low,
}

impl Priority4 {
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(json!(s.to_ascii_lowercase())).ok()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority4::Urgent => "urgent",
            Priority4::High => "high",
            Priority4::Normal => "normal",
            Priority4::Low => "low",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum DecidedBy {
    /// A rule the user wrote.
    Rule,
    /// An earlier correction by the user for this sender (or domain).
    Learned,
    /// A mailing list's or a machine's headers (List-Id, Auto-Submitted).
    Headers,
    /// The statistical filter trained on the user's corrections.
    Filter,
    Model,
}

impl DecidedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            DecidedBy::Rule => "rule",
            DecidedBy::Learned => "learned",
            DecidedBy::Headers => "headers",
            DecidedBy::Filter => "filter",
            DecidedBy::Model => "model",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionItem {
    pub text: String,
    pub due: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TriageRecord {
    pub category: String,
    pub priority: Priority4,
    pub needs_reply: bool,
    pub action_items: Vec<ActionItem>,
    pub summary: String,
    /// The folder/label it would go to: `Triage/<Category>`.
    pub route: String,
    pub reason: String,
    pub decided_by: DecidedBy,
}

/// What the user writes: "mail from this sender / domain / with this in the subject is …".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub field: RuleField,
    /// Sender and domain match exactly (case-insensitive); subject matches as a substring.
    pub pattern: String,
    pub category: String,
    #[serde(default)]
    pub priority: Option<Priority4>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleField {
    Sender,
    Domain,
    Subject,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TriageOptions {
    pub categories: Vec<String>,
    pub rules: Vec<Rule>,
    /// Body tokens the model reads (counted by the model's own tokenizer, so a Cyrillic or
    /// Chinese mail costs no more prompt than an English one).
    pub body_tokens: usize,
    /// Requests in flight at once in batched mode.
    pub window: usize,
    pub seed: u32,
    /// Reuse the cached prompt prefix (the shared instructions) between messages. Off
    /// computes every prompt from scratch: slower, bit-for-bit reproducible.
    pub cache_prompt: bool,
    /// Write a reply draft for mail that needs a reply (stored locally, never sent).
    pub drafts: bool,
    /// The desktop app: a notification for each newly triaged urgent message.
    pub notify_urgent: bool,
    /// The desktop app: minutes between background checks of the mail accounts; 0 = off.
    pub every_minutes: u32,
}

impl Default for TriageOptions {
    fn default() -> Self {
        Self {
            categories: DEFAULT_CATEGORIES.iter().map(|s| s.to_string()).collect(),
            rules: Vec::new(),
            body_tokens: 256,
            window: 16,
            seed: 42,
            cache_prompt: true,
            drafts: false,
            notify_urgent: false,
            every_minutes: 15,
        }
    }
}

impl TriageOptions {
    pub fn knows(&self, category: &str) -> bool {
        self.categories.iter().any(|c| c == category)
    }
}

/// One message's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Triaged {
    pub message_id: i64,
    pub key: String,
    pub source: String,
    pub from: Option<String>,
    pub subject: String,
    pub record: TriageRecord,
    /// Already triaged by an earlier run (nothing was recomputed).
    pub cached: bool,
    /// The local reply draft, when drafts are on and the message needs a reply.
    pub draft: Option<String>,
}

impl Triaged {
    pub(super) fn new(message_id: i64, m: &MailMessage, record: TriageRecord, cached: bool) -> Self {
        Self {
            message_id,
            key: m.key.clone(),
            source: m.source.clone(),
            from: m.from_address.clone(),
            subject: m.subject.clone(),
            record,
            cached,
            draft: None,
        }
    }
}

/// A message that could not be triaged, and why.
#[derive(Debug)]
pub struct TriageFailure {
    pub key: String,
    pub source: String,
    pub error: Error,
}

impl TriageFailure {
    pub(super) fn new(m: &MailMessage, error: Error) -> Self {
        Self {
            key: m.key.clone(),
            source: m.source.clone(),
            error,
        }
    }
}

pub type Outcome = std::result::Result<Triaged, TriageFailure>;

/// `Triage/Newsletter`: the folder a category goes to.
pub fn route(category: &str) -> String {
    let mut c = category.chars();
    let title: String = c
        .next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default();
    format!("Triage/{title}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decided_by_names_match_the_serialized_ones() {
        for d in [
            DecidedBy::Rule,
            DecidedBy::Learned,
            DecidedBy::Headers,
            DecidedBy::Filter,
            DecidedBy::Model,
        ] {
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
    }

    #[test]
    fn a_category_routes_to_its_titled_folder() {
        assert_eq!(route("newsletter"), "Triage/Newsletter");
        assert_eq!(route(""), "Triage/");
    }
}
