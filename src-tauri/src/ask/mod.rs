//! "Ask my files" in the chat: an answer from the user's documents, chats and memory,
//! citing each passage it used; kept in the conversation like a chat answer.

pub mod commands;
pub mod dto;
