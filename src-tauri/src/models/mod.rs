//! The Models view: what fits, downloads, imports, the model in use and per task.

pub mod commands;
pub mod dto;
