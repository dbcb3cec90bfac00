//! Chat: send, regenerate and stop; answers stream over a Tauri Channel.

pub mod commands;
pub mod dto;
