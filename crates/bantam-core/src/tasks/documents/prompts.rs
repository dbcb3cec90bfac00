//! The summary prompts and their sampling.

use super::SummaryLength;
use crate::engine::{ChatMessage, Sampling};
use crate::store::StoredChunk;
use crate::tasks::prompt::{neutralize, DOCUMENT_IS_DATA};

pub(super) const MAP_MAX_TOKENS: usize = 160;

/// The system prompt of every summary pass.
pub(super) fn system() -> String {
    format!("You summarize documents faithfully and briefly. {DOCUMENT_IS_DATA}")
}

/// Deterministic decoding with a light repetition penalty (small models loop without it).
pub(super) fn sampling(max_tokens: usize) -> Sampling {
    Sampling {
        temperature: 0.0,
        repeat_penalty: 1.1,
        seed: Some(0),
        max_tokens,
        ..Sampling::default()
    }
}

pub(super) fn map_prompt(name: &str, chunk: &StoredChunk) -> Vec<ChatMessage> {
    let headings: Vec<String> = serde_json::from_str(&chunk.heading_path).unwrap_or_default();
    let mut place = String::new();
    if !headings.is_empty() {
        place.push_str(&format!(" (section: {})", headings.join(" › ")));
    }
    match (chunk.page_start, chunk.page_end) {
        (Some(a), Some(b)) if a != b => place.push_str(&format!(" (pages {a}–{b})")),
        (Some(a), _) => place.push_str(&format!(" (page {a})")),
        _ => {}
    }
    vec![
        ChatMessage::system(system()),
        ChatMessage::user(format!(
            "Summarize this part of the document \"{name}\"{place} in 2 to 4 sentences. Keep names, dates and \
             numbers.\n\n<document_part>\n{}\n</document_part>",
            neutralize(&chunk.text)
        )),
    ]
}

pub(super) fn final_prompt(name: &str, length: SummaryLength, content: &str, from_parts: bool) -> Vec<ChatMessage> {
    let user = if from_parts {
        format!(
            "Below are summaries of consecutive parts of the document \"{name}\". {}\n\n<part_summaries>\n{}\n\
             </part_summaries>",
            length.instruction(),
            content
        )
    } else {
        format!(
            "{}\n\n<document name=\"{name}\">\n{}\n</document>",
            length.instruction(),
            neutralize(content)
        )
    };
    vec![ChatMessage::system(system()), ChatMessage::user(user)]
}

pub(super) fn numbered(summaries: &[String]) -> String {
    summaries
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {}", i + 1, neutralize(s)))
        .collect::<Vec<_>>()
        .join("\n")
}
