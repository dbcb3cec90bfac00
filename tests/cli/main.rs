//! The real `bantam` binary on the real test model, each test in its own data directory:
//! chat and history, documents, models and downloads, mail triage.

mod chat;
mod documents;
mod models;
mod serve;
mod tiers;
mod triage;
