//! The engine: its state (pushed as `engine-state`), pause and resume.

pub mod commands;
pub mod dto;
