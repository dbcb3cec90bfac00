//! A summary as a background job: one pass for a short document, map-reduce for a long
//! one, the final pass streamed, metadata alongside; the run's job row resumes it after a
//! crash or quit.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

use super::metadata::stored_metadata;
use super::prompts::{final_prompt, numbered, sampling};
use super::{DocumentEvent, DocumentService, IngestedDocument, SummaryLength, SummaryResult, Target, JOB_KIND};
use crate::engine::{Event, Priority, Request};
use crate::error::{Error, Result};
use crate::jobs::JobRun;

impl DocumentService {
    /// Starts a summary in the background; its events stream from the returned run.
    pub fn summarize(&self, target: Target, length: SummaryLength, redo: bool) -> SummaryRun {
        let (tx, rx) = mpsc::unbounded_channel();
        let service = self.clone();
        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let result = service.run_summary(target, length, redo, &stopped, &tx).await;
            let _ = tx.send(match result {
                Ok(done) => DocumentEvent::Done(Box::new(done)),
                Err(e) => DocumentEvent::Failed(e),
            });
        });
        SummaryRun {
            events: rx,
            task,
            stop: SummaryStopper(stop),
        }
    }

    /// Jobs a crash left unfinished (after `recover_interrupted_jobs`), started again.
    pub async fn resume_pending(&self) -> Result<Vec<SummaryRun>> {
        let mut runs = Vec::new();
        for job in self.store.queued_jobs(JOB_KIND).await? {
            let payload: JobPayload = job.payload()?;
            runs.push(self.summarize(Target::Document(payload.document_id), payload.length, false));
        }
        Ok(runs)
    }

    async fn run_summary(
        &self,
        target: Target,
        length: SummaryLength,
        redo: bool,
        stop: &Notify,
        tx: &mpsc::UnboundedSender<DocumentEvent>,
    ) -> Result<SummaryResult> {
        let doc = match target {
            Target::Path(path) => self.ingest(&path).await?,
            Target::Text { name, text } => self.ingest_text(&name, &text).await?,
            Target::Document(id) => self.load(id).await?,
        };
        let _ = tx.send(DocumentEvent::Ingested(Box::new(doc.clone())));
        let id = doc.document.id;
        let chunks_total = doc.chunks.len();
        if !redo {
            if let Some(summary) = self.store.summary(id, length.as_str()).await? {
                return Ok(SummaryResult {
                    document_id: id,
                    length,
                    text: summary.text,
                    cached: true,
                    metadata: stored_metadata(&doc.document),
                    metadata_error: None,
                    chunks: chunks_total,
                    mapped: 0,
                    map_reduce: chunks_total > 1,
                });
            }
        }
        let doc = if redo {
            self.store.clear_summaries(id).await?;
            self.load(id).await?
        } else {
            doc
        };
        let job = JobRun::begin(
            &self.store,
            JOB_KIND,
            Some(&format!("{}:{}", doc.document.sha256, length.as_str())),
            &JobPayload {
                document_id: id,
                length,
            },
        )
        .await?;
        tokio::select! {
            result = self.summarize_document(&doc, length, redo, tx) => match result {
                Ok(result) => {
                    job.complete(&serde_json::json!({"mapped": result.mapped, "chunks": result.chunks}))
                        .await?;
                    Ok(result)
                }
                Err(e) => {
                    job.fail(&e.to_string(), 3).await?;
                    Err(e)
                }
            },
            _ = stop.notified() => {
                job.cancel().await?;
                Err(Error::Cancelled)
            }
        }
    }

    async fn summarize_document(
        &self,
        doc: &IngestedDocument,
        length: SummaryLength,
        redo: bool,
        tx: &mpsc::UnboundedSender<DocumentEvent>,
    ) -> Result<SummaryResult> {
        let id = doc.document.id;
        let map_reduce = doc.chunks.len() > 1;
        let mut mapped = 0;
        let (final_request, partials) = if map_reduce {
            let (summaries, newly) = self.map(doc, tx).await?;
            mapped = newly;
            let combined = self.reduce(&doc.document.name, summaries).await?;
            (
                final_prompt(&doc.document.name, length, &numbered(&combined), true),
                combined,
            )
        } else {
            let text = doc.chunks.first().map(|c| c.text.as_str()).unwrap_or_default();
            (final_prompt(&doc.document.name, length, text, false), Vec::new())
        };

        let metadata = async {
            match (!redo).then(|| stored_metadata(&doc.document)).flatten() {
                Some(stored) => Ok(stored),
                None => {
                    let context = self.head(&doc.chunks, &partials).await;
                    self.extract_metadata(doc, &context).await
                }
            }
        };
        let summary = async {
            let mut generation = self.engine.submit(
                Request::chat(final_request)
                    .with_sampling(sampling(length.max_tokens()))
                    .with_priority(Priority::Interactive),
            )?;
            while let Some(event) = generation.next().await {
                match event {
                    Event::Token(t) => {
                        let _ = tx.send(DocumentEvent::Token(t));
                    }
                    Event::Done(c) => return Ok(c.text.trim().to_string()),
                    Event::Failed(e) => return Err(e),
                    Event::Started { .. } | Event::Logprobs(_) => {}
                }
            }
            Err(Error::EngineStopped)
        };
        // The final pass and the metadata run side by side in the batch.
        let (summary, metadata) = tokio::join!(summary, metadata);
        let text = summary?;
        let title = metadata
            .as_ref()
            .map(|m| m.extracted.title.as_str())
            .unwrap_or_default();
        let text = if has_prose(&text) && !only_the_title(&text, title) {
            text
        } else {
            // A small model sometimes answers with bare markup (`<section></section>`),
            // echoing the tags the parts came in, or with the title alone; its own part
            // summaries, or the document's opening, say more.
            tracing::warn!(document = id, output = %text, "the final pass said nothing the title does not; using the parts");
            let single = doc.chunks.first().map(|c| c.text.as_str()).unwrap_or_default();
            fallback_summary(&partials, single)
        };
        self.store
            .save_summary(id, length.as_str(), &text, self.model())
            .await?;
        let (metadata, metadata_error) = match metadata {
            Ok(m) => {
                let _ = tx.send(DocumentEvent::Metadata(Box::new(m.clone())));
                (Some(m), None)
            }
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(SummaryResult {
            document_id: id,
            length,
            text,
            cached: false,
            metadata,
            metadata_error,
            chunks: doc.chunks.len(),
            mapped,
            map_reduce,
        })
    }
}

/// A summary being made. Dropping it stops the work (the engine requests are cancelled)
/// as an interruption: what was stored stays, and its job is resumed at the next start.
/// [`SummaryStopper::cancel`] stops it for good (the user's Stop).
pub struct SummaryRun {
    events: mpsc::UnboundedReceiver<DocumentEvent>,
    task: JoinHandle<()>,
    stop: SummaryStopper,
}

/// Stops one summary at the user's request: its job is cancelled (never resumed by
/// itself; the part summaries made so far are kept for the next try) and the run ends
/// with [`Error::Cancelled`].
#[derive(Clone)]
pub struct SummaryStopper(Arc<Notify>);

impl SummaryStopper {
    pub fn cancel(&self) {
        self.0.notify_one();
    }
}

impl SummaryRun {
    pub fn stopper(&self) -> SummaryStopper {
        self.stop.clone()
    }

    pub async fn next(&mut self) -> Option<DocumentEvent> {
        self.events.recv().await
    }

    /// Waits for the end, dropping the progress events.
    pub async fn finish(mut self) -> Result<SummaryResult> {
        while let Some(event) = self.next().await {
            match event {
                DocumentEvent::Done(r) => return Ok(*r),
                DocumentEvent::Failed(e) => return Err(e),
                _ => {}
            }
        }
        Err(Error::EngineStopped)
    }
}

impl Drop for SummaryRun {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct JobPayload {
    document_id: i64,
    length: SummaryLength,
}

/// Whether `text` has words outside markup tags.
fn has_prose(text: &str) -> bool {
    let mut rest = text;
    let mut prose = String::new();
    while let Some(open) = rest.find('<') {
        prose.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_end = after.find(|c: char| !(c.is_alphanumeric() || "/_-".contains(c)));
        match name_end.filter(|&i| after[i..].starts_with('>')) {
            Some(i) => rest = &after[i + 1..],
            None => {
                prose.push('<');
                rest = after;
            }
        }
    }
    prose.push_str(rest);
    prose.chars().any(char::is_alphabetic)
}

/// Whether a summary says no more than the title: every word of it is in the title (or
/// is one of a few filler words).
fn only_the_title(summary: &str, title: &str) -> bool {
    const FILLER: [&str; 12] = [
        "the", "a", "an", "this", "document", "is", "about", "of", "summary", "and", "for", "to",
    ];
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let title = words(title);
    let summary = words(summary);
    !title.is_empty()
        && summary
            .iter()
            .all(|w| title.contains(w) || FILLER.contains(&w.as_str()))
}

/// The part summaries as paragraphs, or for a one-part document its first sentences.
fn fallback_summary(partials: &[String], text: &str) -> String {
    let parts: Vec<&str> = partials.iter().map(|s| s.trim()).filter(|s| has_prose(s)).collect();
    if !parts.is_empty() {
        return parts.join("\n\n");
    }
    let text = text.trim();
    let end = text.floor_char_boundary(400);
    match text[..end].rfind(". ") {
        Some(dot) if end < text.len() => text[..=dot].to_string(),
        _ => text[..end].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{fallback_summary, has_prose, only_the_title};

    #[test]
    fn a_summary_that_repeats_the_title_is_not_one() {
        let title = "The Debian GNU/Linux FAQ";
        assert!(only_the_title("The Debian GNU/Linux FAQ.", title));
        assert!(only_the_title("This document is the Debian FAQ", title));
        assert!(!only_the_title(
            "Answers common questions about installing Debian.",
            title
        ));
        assert!(!only_the_title("Anything at all", ""));
    }

    #[test]
    fn bare_markup_is_not_a_summary_and_the_parts_stand_in() {
        assert!(!has_prose("<section>\n</section>"));
        assert!(!has_prose("  <summary/> "));
        assert!(has_prose("<p>Debian is a free operating system.</p>"));
        assert!(has_prose("If x < y then y > x."));
        let parts = [
            "Part one says A.".to_string(),
            "<section></section>".to_string(),
            "Part three says C.".into(),
        ];
        assert_eq!(
            fallback_summary(&parts, "ignored"),
            "Part one says A.\n\nPart three says C."
        );
        let long = format!("First sentence here. {}", "word ".repeat(200));
        assert_eq!(fallback_summary(&[], &long), "First sentence here.");
        assert_eq!(fallback_summary(&[], "Short text."), "Short text.");
    }
}
