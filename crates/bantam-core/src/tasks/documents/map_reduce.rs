//! Long documents: every chunk summarized at once in the engine's batch (each stored as
//! it finishes), then the part summaries combined level by level until they fit.

use std::collections::HashMap;

use tokio::sync::mpsc;

use super::prompts::{map_prompt, numbered, sampling, system, MAP_MAX_TOKENS};
use super::{DocumentEvent, DocumentService, IngestedDocument};
use crate::engine::{ChatMessage, Priority, Request};
use crate::error::{Error, Result};
use crate::ingest::TokenCounter;
use crate::store::StoredChunk;

impl DocumentService {
    /// Summarizes every chunk that has no summary yet, all submitted together so the
    /// engine batches them; each is stored as it finishes. Returns every chunk's summary
    /// in order and how many were made now.
    pub(super) async fn map(
        &self,
        doc: &IngestedDocument,
        tx: &mpsc::UnboundedSender<DocumentEvent>,
    ) -> Result<(Vec<String>, usize)> {
        let total = doc.chunks.len();
        let mut summaries: HashMap<i64, String> = doc
            .chunks
            .iter()
            .filter_map(|c| c.summary.clone().map(|s| (c.idx, s)))
            .collect();
        let todo: Vec<&StoredChunk> = doc.chunks.iter().filter(|c| c.summary.is_none()).collect();
        let _ = tx.send(DocumentEvent::Mapped {
            done: summaries.len(),
            total,
        });
        let concurrency = self.options.map_concurrency.unwrap_or(usize::MAX).max(1);
        let mut newly = 0;
        for group in todo.chunks(concurrency.min(todo.len().max(1))) {
            let mut pending = tokio::task::JoinSet::new();
            for chunk in group {
                let generation = self.engine.submit(
                    Request::chat(map_prompt(&doc.document.name, chunk))
                        .with_sampling(sampling(MAP_MAX_TOKENS))
                        .with_priority(Priority::Background),
                )?;
                let idx = chunk.idx;
                pending.spawn(async move { (idx, generation.collect().await) });
            }
            while let Some(joined) = pending.join_next().await {
                let (idx, completion) = joined.map_err(Error::panicked("a part summary"))?;
                let text = completion?.text.trim().to_string();
                self.store
                    .save_chunk_summary(doc.document.id, idx, &text, self.model())
                    .await?;
                summaries.insert(idx, text);
                newly += 1;
                let _ = tx.send(DocumentEvent::Mapped {
                    done: summaries.len(),
                    total,
                });
            }
        }
        let mut ordered: Vec<(i64, String)> = summaries.into_iter().collect();
        ordered.sort_by_key(|(idx, _)| *idx);
        Ok((ordered.into_iter().map(|(_, s)| s).collect(), newly))
    }

    /// Combines chunk summaries until they fit one final prompt: groups that fit the
    /// budget are summarized again (in parallel), level by level.
    pub(super) async fn reduce(&self, name: &str, mut summaries: Vec<String>) -> Result<Vec<String>> {
        let budget = self.combine_tokens();
        loop {
            let counts: Vec<usize> = summaries.iter().map(|s| self.tokenizer.count(s) + 4).collect();
            if counts.iter().sum::<usize>() <= budget || summaries.len() <= 1 {
                return Ok(summaries);
            }
            let mut groups: Vec<Vec<String>> = vec![Vec::new()];
            let mut used = 0;
            for (summary, count) in summaries.into_iter().zip(counts) {
                let current = groups.last_mut().expect("one group at least");
                // Two at least per group, so every level shrinks.
                if used + count > budget && current.len() >= 2 {
                    groups.push(Vec::new());
                    used = 0;
                }
                used += count;
                groups.last_mut().expect("one group at least").push(summary);
            }
            let mut pending = Vec::new();
            for group in &groups {
                let text = numbered(group);
                pending.push(
                    self.engine.submit(
                        Request::chat(vec![
                            ChatMessage::system(system()),
                            ChatMessage::user(format!(
                                "Below are summaries of consecutive parts of the document \"{name}\". Combine them \
                                 into one summary of 3 to 5 sentences that keeps names, dates and numbers.\n\n\
                                 <part_summaries>\n{text}\n</part_summaries>"
                            )),
                        ])
                        .with_sampling(sampling(MAP_MAX_TOKENS))
                        .with_priority(Priority::Background),
                    )?,
                );
            }
            let mut next = Vec::with_capacity(pending.len());
            for generation in pending {
                next.push(generation.collect().await?.text.trim().to_string());
            }
            summaries = next;
        }
    }
}
