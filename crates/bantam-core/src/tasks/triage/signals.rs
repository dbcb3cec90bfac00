//! Cheap signals first: the user's rules, then what the user corrected before for the
//! same sender (or domain), then a mailing list's post (List-Id) and mail a machine sent
//! (Auto-Submitted), then the filter trained on the corrections when it is sure. What
//! these decide never reaches the model.

use super::book::{without_model, TriageBook};
use super::record::{DecidedBy, Priority4, RuleField, TriageRecord};
use crate::error::Result;
use crate::mail::MailMessage;

impl TriageBook {
    /// A record for `m` without the model, when a rule, a correction or its headers decide.
    pub async fn decide_without_model(&self, m: &MailMessage) -> Result<Option<TriageRecord>> {
        let from = m.from_address.clone().unwrap_or_default();
        let domain = m.sender_domain().unwrap_or_default();
        for rule in &self.options().rules {
            let hit = match rule.field {
                RuleField::Sender => from.eq_ignore_ascii_case(&rule.pattern),
                RuleField::Domain => domain.eq_ignore_ascii_case(&rule.pattern),
                RuleField::Subject => m.subject.to_lowercase().contains(&rule.pattern.to_lowercase()),
            };
            if hit {
                return Ok(Some(without_model(
                    m,
                    &rule.category,
                    rule.priority.unwrap_or(Priority4::Normal),
                    format!("your rule: {:?} {}", rule.field, rule.pattern).to_lowercase(),
                    DecidedBy::Rule,
                )));
            }
        }
        if let Some(c) = self
            .store()
            .correction_for(m.from_address.as_deref(), m.sender_domain().as_deref())
            .await?
        {
            if let Some(category) = c.category.as_deref().filter(|c| self.options().knows(c)) {
                let same_sender = c.from_address.is_some() && c.from_address == m.from_address;
                let priority = c
                    .priority
                    .as_deref()
                    .and_then(Priority4::parse)
                    .unwrap_or(Priority4::Normal);
                return Ok(Some(without_model(
                    m,
                    category,
                    priority,
                    if same_sender {
                        format!("you filed mail from {from} as {category}")
                    } else {
                        format!("you filed mail from {domain} as {category}")
                    },
                    DecidedBy::Learned,
                )));
            }
        }
        // A List-Id is a mailing list's own mark: the post came through a list the user is
        // on. List-Unsubscribe and Precedence alone decide nothing: spam and marketing
        // send them as much as newsletters do, so the model judges those (it reads them,
        // `email_text`).
        if let Some(list) = &m.bulk.list_id {
            return Ok(Some(without_model(
                m,
                "newsletter",
                Priority4::Low,
                format!("posted to the mailing list {list}"),
                DecidedBy::Headers,
            )));
        }
        if m.bulk.auto_submitted {
            return Ok(Some(without_model(
                m,
                "notification",
                Priority4::Low,
                "sent by a machine (Auto-Submitted header)".into(),
                DecidedBy::Headers,
            )));
        }
        if let Some(v) = self.filter().await?.judge(m) {
            let priority = if matches!(
                v.category.as_str(),
                "spam" | "promotion" | "newsletter" | "notification"
            ) {
                Priority4::Low
            } else {
                Priority4::Normal
            };
            return Ok(Some(without_model(
                m,
                &v.category,
                priority,
                format!(
                    "like mail you filed as {} (filter trained on {} corrections)",
                    v.category, v.trained
                ),
                DecidedBy::Filter,
            )));
        }
        Ok(None)
    }
}
