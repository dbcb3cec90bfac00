//! What the chat commands send and take.

use bantam_core::router::Decision;
use bantam_core::store::Memory;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the page receives for one answer, in order: `started`, `token`s, then `done` or
/// `failed`; after `done`, `remember` when the user's message stated facts about them.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    Started {
        conversation_id: i64,
        prompt_tokens: usize,
        cached_tokens: usize,
        dropped_messages: usize,
        /// Where the answer is made and why (the badge).
        route: Decision,
        model: String,
        /// The facts from the memory of the user the answer was given.
        recalled: Vec<Memory>,
    },
    Token {
        text: String,
    },
    Done {
        text: String,
        finish_reason: String,
        generated_tokens: usize,
        tokens_per_s: f64,
        time_to_first_token_ms: f64,
    },
    Failed {
        message: String,
    },
    /// Facts the user's message stated, proposed for memory (kept already when the user
    /// turned that on).
    Remember {
        memories: Vec<Memory>,
    },
}

/// Per-request sampling from the page; absent fields keep the chat defaults.
#[derive(Debug, Default, Deserialize, TS)]
#[ts(optional_fields)]
pub struct SamplingOverrides {
    pub temperature: Option<f32>,
    pub max_tokens: Option<usize>,
    pub system_prompt: Option<String>,
}
