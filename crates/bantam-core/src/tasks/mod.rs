//! Task logic: prompts, schemas and post-processing over the engine and the store.

pub mod chat;
pub mod documents;
pub mod prompt;
pub mod triage;
