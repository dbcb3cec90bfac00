//! The OpenAI-compatible API served from the app's process (Settings → API), so other
//! programs share the loaded model instead of loading a second one.

pub mod commands;
pub mod dto;
pub mod server;
