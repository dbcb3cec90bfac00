//! The record book: everything triage keeps that needs no model — the user's categories
//! and rules, their corrections, the stored records and the Inbox listing. It works with
//! the model paused or never loaded; the model path ([`super::TriageService`]) writes
//! through it.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Mutex;

use super::filter::Filter;
use super::record::{route, DecidedBy, Priority4, Rule, TriageOptions, TriageRecord, Triaged};
use crate::error::{Error, Result};
use crate::mail::MailMessage;
use crate::store::settings::keys::TRIAGE;
use crate::store::Store;

#[derive(Clone)]
pub struct TriageBook {
    store: Store,
    options: TriageOptions,
    /// The filter learned from the corrections, with the corrections' mark it was built at.
    filter: Arc<Mutex<Option<Learned>>>,
}

/// A filter and the corrections' mark (`Store::corrections_mark`) it was built at.
type Learned = ((i64, i64), Arc<Filter>);

/// A triaged message as the Inbox lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InboxEntry {
    pub message_id: i64,
    pub key: String,
    pub from: Option<String>,
    pub subject: String,
    pub date: Option<String>,
    pub record: TriageRecord,
    /// The local reply draft, when one was written.
    pub draft: Option<String>,
}

impl TriageBook {
    /// The book with the user's saved options (categories, rules, schedule).
    pub async fn open(store: &Store) -> Result<Self> {
        let options = store.get_setting(TRIAGE).await?.unwrap_or_default();
        Ok(Self::new(store.clone(), options))
    }

    pub fn new(store: Store, options: TriageOptions) -> Self {
        Self {
            store,
            options,
            filter: Arc::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn options(&self) -> &TriageOptions {
        &self.options
    }

    /// For one run's settings (a seed, drafts on); nothing here is saved.
    pub fn options_mut(&mut self) -> &mut TriageOptions {
        &mut self.options
    }

    /// Adds a rule to the saved options (and to this book's).
    pub async fn add_rule(&mut self, rule: Rule) -> Result<()> {
        self.check_category(&rule.category)?;
        let mut saved: TriageOptions = self.store.get_setting(TRIAGE).await?.unwrap_or_default();
        saved.rules.push(rule.clone());
        self.store.set_setting(TRIAGE, &saved).await?;
        self.options.rules.push(rule);
        Ok(())
    }

    fn check_category(&self, category: &str) -> Result<()> {
        if self.options.knows(category) {
            return Ok(());
        }
        Err(Error::InvalidRequest(format!(
            "unknown category {category:?}; one of {}",
            self.options.categories.join(", ")
        )))
    }

    /// The statistical filter trained on the corrections, rebuilt when they changed.
    pub async fn filter(&self) -> Result<Arc<Filter>> {
        let mark = self.store.corrections_mark().await?;
        let mut cached = self.filter.lock().await;
        if let Some((at, filter)) = cached.as_ref() {
            if *at == mark {
                return Ok(filter.clone());
            }
        }
        let mut filter = Filter::default();
        for (category, m) in self.store.corrected_messages().await? {
            if self.options.knows(&category) {
                filter.learn(&m, &category);
            }
        }
        let filter = Arc::new(filter);
        *cached = Some((mark, filter.clone()));
        Ok(filter)
    }

    /// The message with this key (`mid:…`, `sha256:…`, `imap:…`) or bare Message-ID.
    pub async fn message_id(&self, key: &str) -> Result<i64> {
        self.store.mail_id_by_key(key).await?.ok_or_else(|| Error::NotFound {
            what: "triaged message with that key or Message-ID",
            id: key.to_string(),
        })
    }

    /// The user says a message is `category` / `priority`: stored, applied to its record,
    /// and used for the same sender from now on.
    pub async fn correct(
        &self,
        message_id: i64,
        category: Option<&str>,
        priority: Option<Priority4>,
    ) -> Result<TriageRecord> {
        if let Some(c) = category {
            self.check_category(c)?;
        }
        let m = self.store.mail_message(message_id).await?;
        let mut record = match self.stored(message_id).await? {
            Some(r) => r,
            None => without_model(
                &m,
                category.unwrap_or("personal"),
                Priority4::Normal,
                String::new(),
                DecidedBy::Learned,
            ),
        };
        if let Some(c) = category {
            record.category = c.to_string();
            record.route = route(c);
        }
        if let Some(p) = priority {
            record.priority = p;
        }
        record.reason = "corrected by you".into();
        record.decided_by = DecidedBy::Learned;
        self.store
            .add_correction(
                message_id,
                m.from_address.as_deref(),
                m.sender_domain().as_deref(),
                Some(&record.category),
                Some(record.priority.as_str()),
            )
            .await?;
        self.store
            .replace_triage(message_id, &to_json(&record)?, record.decided_by.as_str())
            .await?;
        Ok(record)
    }

    /// Triaged messages, most urgent first, then newest; optionally only those whose
    /// subject or sender contains `query`.
    pub async fn inbox(&self, query: Option<&str>, limit: i64) -> Result<Vec<InboxEntry>> {
        let rows = self.store.inbox(query, limit).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let record = serde_json::from_str(&r.record)
                    .map_err(|e| tracing::warn!("stored triage of {} unreadable: {e}", r.key))
                    .ok()?;
                Some(InboxEntry {
                    message_id: r.message_id,
                    key: r.key,
                    from: r.from_address,
                    subject: r.subject,
                    date: r.date,
                    record,
                    draft: r.draft,
                })
            })
            .collect())
    }

    /// The record stored for a message, if it has a readable one.
    pub(super) async fn stored(&self, message_id: i64) -> Result<Option<TriageRecord>> {
        let Some(stored) = self.store.triage_of(message_id).await? else {
            return Ok(None);
        };
        match serde_json::from_str(&stored.record) {
            Ok(record) => Ok(Some(record)),
            Err(e) => {
                tracing::warn!("stored triage of message {message_id} unreadable ({e}); triaging again");
                Ok(None)
            }
        }
    }

    /// Stores a new record, unless another run stored one first (then that one stands).
    pub(super) async fn save(
        &self,
        message_id: i64,
        m: &MailMessage,
        record: TriageRecord,
        model: Option<&str>,
    ) -> Result<Triaged> {
        let stored = self
            .store
            .save_triage(message_id, &to_json(&record)?, record.decided_by.as_str(), model)
            .await?;
        if !stored {
            if let Some(existing) = self.stored(message_id).await? {
                return Ok(Triaged::new(message_id, m, existing, true));
            }
        }
        Ok(Triaged::new(message_id, m, record, false))
    }
}

/// A record decided without the model: the subject stands in for the summary.
pub(super) fn without_model(
    m: &MailMessage,
    category: &str,
    priority: Priority4,
    reason: String,
    decided_by: DecidedBy,
) -> TriageRecord {
    TriageRecord {
        category: category.to_string(),
        priority,
        needs_reply: false,
        action_items: Vec::new(),
        summary: if m.subject.is_empty() {
            "(no subject)".into()
        } else {
            m.subject.chars().take(160).collect()
        },
        route: route(category),
        reason,
        decided_by,
    }
}

fn to_json(record: &TriageRecord) -> Result<String> {
    serde_json::to_string(record).map_err(|e| Error::InvalidRequest(e.to_string()))
}
