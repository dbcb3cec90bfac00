//! Mail: the Inbox, corrections, Triage now, accounts and the mail settings, and the
//! background runner (schedule, progress, notifications).

pub mod commands;
pub mod dto;
pub mod runner;
