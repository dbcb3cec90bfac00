//! Documents: summaries of dropped files or the clipboard, streamed; the list, one
//! document, delete, and a chat about it.

pub mod commands;
pub mod dto;
