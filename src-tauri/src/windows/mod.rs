//! Window actions the pages ask for.

pub mod commands;
pub mod dto;
