//! The model path: messages the record book cannot decide go to the model, one request
//! each, up to `window` at once in the engine's batch at background priority; then the
//! reply drafts, when they are on. Records are stored through the book as they finish, so
//! a stopped run resumes where it was and nothing is triaged twice.

use std::collections::VecDeque;

use super::book::TriageBook;
use super::prompts::{cut_to_tokens, draft_system, email_text, schema, triage_system, ModelAnswer};
use super::record::{route, DecidedBy, Outcome, TriageFailure, TriageOptions, TriageRecord, Triaged};
use crate::engine::{ChatMessage, Engine, Priority, Request, Sampling};
use crate::error::{Error, Result};
use crate::mail::MailMessage;
use crate::store::Store;
use crate::tasks::prompt::neutralize;

#[derive(Clone)]
pub struct TriageService {
    engine: Engine,
    book: TriageBook,
}

impl TriageService {
    pub fn new(engine: Engine, book: TriageBook) -> Self {
        Self { engine, book }
    }

    /// Over a store with these options (benchmarks, evaluation: nothing saved).
    pub fn with_options(engine: Engine, store: Store, options: TriageOptions) -> Self {
        Self::new(engine, TriageBook::new(store, options))
    }

    pub fn book(&self) -> &TriageBook {
        &self.book
    }

    pub fn options(&self) -> &TriageOptions {
        self.book.options()
    }

    pub fn schema(&self) -> serde_json::Value {
        schema(&self.options().categories)
    }

    /// The start of the message's own text (`MailMessage::own_text`: a reply's quotes and
    /// signature left out), at most `body_tokens` tokens of it.
    async fn body(&self, m: &MailMessage) -> Result<String> {
        let text = m.own_text();
        let tokenizer = self.engine.tokenizer().clone();
        let max = self.options().body_tokens;
        // A cheap first cut: no tokenizer yields fewer than one token per 8 characters.
        let text: String = text.chars().take(max.saturating_mul(8)).collect();
        tokio::task::spawn_blocking(move || {
            let end = cut_to_tokens(&text, max, |t| tokenizer.tokenize(t).len());
            text[..end].to_string()
        })
        .await
        .map_err(Error::panicked("tokenizing"))
    }

    /// Triages messages, calling `on_done` as each finishes (in finishing order). Messages
    /// triaged before are returned from the store. `sequential` runs one request at a
    /// time (for comparison); otherwise up to `window` are in the engine's batch at once.
    pub async fn triage(
        &self,
        messages: Vec<MailMessage>,
        sequential: bool,
        mut on_done: impl FnMut(Outcome),
    ) -> Result<()> {
        let store = self.book.store();
        let mut todo = VecDeque::new();
        for m in messages {
            let id = store.upsert_mail(&m).await?;
            if let Some(record) = self.book.stored(id).await? {
                // Drafts exist only for mail that needs a reply.
                let draft = if record.needs_reply {
                    store.draft_of(id).await?
                } else {
                    None
                };
                if draft.is_none() && self.wants_draft(&record) {
                    // Triaged before, the draft still to write (turned on since, or the
                    // run was stopped in between).
                    todo.push_back((id, m, Some(record)));
                } else {
                    on_done(Ok(Triaged {
                        draft,
                        ..Triaged::new(id, &m, record, true)
                    }));
                }
                continue;
            }
            match self.book.decide_without_model(&m).await? {
                Some(record) => on_done(
                    self.book
                        .save(id, &m, record, None)
                        .await
                        .map_err(|e| TriageFailure::new(&m, e)),
                ),
                None => todo.push_back((id, m, None)),
            }
        }
        let window = if sequential { 1 } else { self.options().window.max(1) };
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < window {
                let Some((id, m, known)) = todo.pop_front() else { break };
                let this = self.clone();
                running.spawn(async move {
                    let done = this.model_work(id, &m, known).await;
                    (m, done)
                });
            }
            let Some(joined) = running.join_next().await else { break };
            let (m, done) = joined.map_err(Error::panicked("a triage task"))?;
            on_done(done.map_err(|e| TriageFailure::new(&m, e)));
        }
        Ok(())
    }

    fn wants_draft(&self, record: &TriageRecord) -> bool {
        self.options().drafts && record.needs_reply
    }

    /// The model's part for one message: its record unless `known`, then the reply draft
    /// when drafts are on and it needs a reply. A failed draft leaves the record standing
    /// (the next run tries the draft again).
    async fn model_work(&self, id: i64, m: &MailMessage, known: Option<TriageRecord>) -> Result<Triaged> {
        let model = self.engine.info().name.clone();
        let store = self.book.store();
        let mut triaged = match known {
            Some(record) => Triaged::new(id, m, record, true),
            None => {
                let record = self.ask_model(m).await?;
                self.book.save(id, m, record, Some(&model)).await?
            }
        };
        if self.wants_draft(&triaged.record) {
            triaged.draft = store.draft_of(id).await?;
            if triaged.draft.is_none() {
                match self.write_draft(m).await {
                    Ok(Some(body)) => {
                        triaged.draft = if store.save_draft(id, &body, Some(&model)).await? {
                            Some(body)
                        } else {
                            // Another run wrote one first: its draft stands.
                            store.draft_of(id).await?
                        };
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!("no reply draft for {}: {e}", m.key),
                }
            }
        }
        Ok(triaged)
    }

    /// A short reply for the user to edit, as plain text; `None` when the model wrote
    /// nothing. Never sent anywhere: it is only stored.
    async fn write_draft(&self, m: &MailMessage) -> Result<Option<String>> {
        let body = self.body(m).await?;
        let request = Request::chat(vec![
            ChatMessage::system(draft_system()),
            ChatMessage::user(format!("<email>\n{}\n</email>", neutralize(&email_text(m, &body)))),
        ])
        .with_sampling(Sampling {
            seed: Some(self.options().seed),
            // Small models loop without it.
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            ..Sampling::greedy(200)
        })
        .with_priority(Priority::Background);
        let completion = self.engine.complete(request).await?;
        let text = completion.text.trim();
        Ok((!text.is_empty()).then(|| text.to_string()))
    }

    async fn ask_model(&self, m: &MailMessage) -> Result<TriageRecord> {
        let options = self.options();
        let examples = self.book.store().recent_corrections(5).await?;
        let mut prompt = format!(
            "Categories: {}.\nPriorities: urgent (needs action today), high, normal, low (can wait or be ignored).\n",
            options.categories.join(", ")
        );
        if !examples.is_empty() {
            prompt.push_str("The user filed these before:\n");
            for (c, subject) in &examples {
                prompt.push_str(&format!(
                    "- from {} \"{}\": {}{}\n",
                    c.from_address.as_deref().unwrap_or("?"),
                    neutralize(&subject.chars().take(80).collect::<String>()),
                    c.category.as_deref().unwrap_or("-"),
                    c.priority.as_deref().map(|p| format!(", {p}")).unwrap_or_default()
                ));
            }
        }
        prompt.push_str("\n<email>\n");
        let body = self.body(m).await?;
        prompt.push_str(&neutralize(&email_text(m, &body)));
        prompt.push_str("\n</email>");
        let request = Request::chat(vec![ChatMessage::system(triage_system()), ChatMessage::user(prompt)])
            .with_sampling(Sampling {
                seed: Some(options.seed),
                // Room for the longest answer the schema allows (digits are a token each).
                ..Sampling::greedy(1000)
            })
            .with_priority(Priority::Background);
        let request = if options.cache_prompt {
            request
        } else {
            request.without_prompt_cache()
        };
        let (answer, done): (ModelAnswer, _) = self.engine.complete_json(request, self.schema()).await?;
        tracing::debug!(
            key = %m.key,
            prompt = done.usage.prompt_tokens,
            prefilled = done.usage.prefilled_tokens,
            generated = done.usage.generated_tokens,
            prompt_ms = done.timings.prompt_ms as u64,
            generation_ms = done.timings.generation_ms as u64,
            "triaged by the model"
        );
        // The schema's enum already holds the model to the list; this guards a changed list.
        let category = if options.knows(&answer.category) {
            answer.category
        } else {
            options.categories.first().cloned().unwrap_or_default()
        };
        Ok(consistent(TriageRecord {
            route: route(&category),
            category,
            priority: answer.priority,
            needs_reply: answer.needs_reply,
            action_items: answer.action_items,
            summary: answer.summary,
            reason: answer.reason,
            decided_by: DecidedBy::Model,
        }))
    }
}

/// Where the model cannot be trusted, the record is made to hold together: bulk, machine
/// and spam mail needs no reply (and spam no attention), and an action item is listed once.
fn consistent(mut r: TriageRecord) -> TriageRecord {
    if matches!(
        r.category.as_str(),
        "spam" | "promotion" | "newsletter" | "notification" | "social"
    ) {
        r.needs_reply = false;
    }
    if r.category == "spam" {
        r.priority = super::record::Priority4::Low;
        r.action_items.clear();
    }
    let mut seen = std::collections::HashSet::new();
    r.action_items.retain(|a| {
        let key: String = a
            .text
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        !key.is_empty() && seen.insert(key)
    });
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::triage::record::{ActionItem, Priority4};

    fn record(category: &str, items: &[&str]) -> TriageRecord {
        TriageRecord {
            category: category.into(),
            priority: Priority4::High,
            needs_reply: true,
            action_items: items
                .iter()
                .map(|t| ActionItem {
                    text: t.to_string(),
                    due: None,
                })
                .collect(),
            summary: "s".into(),
            route: route(category),
            reason: "r".into(),
            decided_by: DecidedBy::Model,
        }
    }

    #[test]
    fn records_are_made_consistent() {
        let r = consistent(record(
            "work",
            &["Confirm the 3pm slot", "confirm the 3pm slot.", " ", "Book the room"],
        ));
        assert!(r.needs_reply);
        let items: Vec<&str> = r.action_items.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(items, ["Confirm the 3pm slot", "Book the room"]);
        let list = consistent(record("newsletter", &[]));
        assert!(!list.needs_reply);
        assert_eq!(list.priority, Priority4::High);
        let spam = consistent(record("spam", &["Claim your prize"]));
        assert_eq!(
            (spam.needs_reply, spam.priority, spam.action_items.len()),
            (false, Priority4::Low, 0)
        );
    }
}
