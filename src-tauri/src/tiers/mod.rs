//! The tiers (Models view → Tiers): the workhorse, the remote endpoint and its key, and
//! where each kind of work runs. The same settings `bantam tiers` writes.

pub mod commands;
pub mod dto;
