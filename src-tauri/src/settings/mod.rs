//! Settings: read, and save with their effects.

pub mod commands;
pub mod dto;
