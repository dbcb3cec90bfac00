//! Conversations: list, open, search, rename, delete.

pub mod commands;
