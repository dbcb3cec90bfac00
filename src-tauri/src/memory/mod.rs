//! The memory of the user: the facts kept and proposed, edited and forgotten here.

pub mod commands;
