//! Bantam's engine, store and task logic. No GUI or HTTP dependencies: the desktop
//! shell and the CLI are thin adapters over this crate.

pub mod bench;
pub mod catalog;
pub mod engine;
pub mod error;
pub mod fit;
pub mod gguf;
pub mod hardware;
pub mod ingest;
pub mod mail;
pub mod paths;
pub mod store;
pub mod tasks;

pub use engine::{Engine, EngineConfig};
pub use error::{Error, Result};
pub use store::Store;
