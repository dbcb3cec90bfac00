//! The search box: everything Bantam keeps — chats, documents, mail and the memory of the
//! user — by words and meaning (`bantam_core::search`), each hit opening its source.

pub mod commands;
pub mod dto;
