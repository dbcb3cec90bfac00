//! Bantam's engine, store and task logic. No GUI or HTTP dependencies: the desktop
//! shell and the CLI are thin adapters over this crate.

pub mod ask;
pub mod engine;
pub mod error;
pub mod hardware;
pub mod indexer;
pub mod ingest;
pub mod jobs;
pub mod mail;
pub mod memory;
pub mod models;
pub mod paths;
pub mod rerank;
pub mod router;
pub mod search;
pub mod store;
pub mod tasks;
pub mod tiers;
pub mod tools;
pub mod units;
pub mod whole_document;

// Sentence embeddings live in `engine/`: llama.cpp is reached only from there.
pub use engine::embed;
pub use engine::{Engine, EngineConfig};
pub use error::{Error, Result};
pub use store::Store;
