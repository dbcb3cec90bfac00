//! Documents: ingest (text, chunks, deterministic facts) → metadata under a JSON schema →
//! summary. Short documents are summarized in one pass; long ones map-reduce: every chunk
//! is summarized at once as its own sequence in the engine's continuous batch, then the
//! chunk summaries are combined in a final, streamed pass. Chunk summaries are stored as
//! they finish, so a killed job resumes with only the missing ones.

mod chat;
mod ingest;
mod map_reduce;
mod metadata;
mod prompts;
mod summary;
mod types;

use std::sync::Arc;

pub use metadata::{language_code, metadata_schema, normalized};
pub use summary::{SummaryRun, SummaryStopper};
pub use types::*;

use crate::engine::{Engine, Tokenizer};
use crate::store::Store;

#[derive(Clone)]
pub struct DocumentService {
    engine: Engine,
    store: Store,
    tokenizer: Arc<Tokenizer>,
    options: DocumentOptions,
}

impl DocumentService {
    /// Chunks with the engine's own tokenizer.
    pub fn new(engine: Engine, store: Store, options: DocumentOptions) -> Self {
        Self {
            tokenizer: engine.tokenizer().clone(),
            engine,
            store,
            options,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn model(&self) -> &str {
        &self.engine.info().name
    }

    /// Token budget of one chunk: what the context holds after the prompt and the answer.
    pub fn chunk_tokens(&self) -> usize {
        self.options.chunk_tokens.unwrap_or_else(|| {
            (self.engine.info().context_size as usize)
                .saturating_sub(640)
                .clamp(128, 1536)
        })
    }

    /// Token budget of the part summaries in one combining prompt: the context less the
    /// instructions and the answer.
    fn combine_tokens(&self) -> usize {
        (self.engine.info().context_size as usize)
            .saturating_sub(200 + SummaryLength::Bullets.max_tokens())
            .max(self.chunk_tokens())
    }
}
