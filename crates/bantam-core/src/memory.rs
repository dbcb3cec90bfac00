//! The memory of the user in a chat: the facts the user kept are recalled into the
//! prompt, within a token budget, and the answer says which it was given. Facts come
//! only from the user (added by hand, or proposed from their own messages and kept):
//! nothing a document, a mail or a web page says reaches memory by itself.

use crate::engine::ChatMessage;
use crate::error::Result;
use crate::ingest::TokenCounter;
use crate::store::{Memory, MemoryStatus, Store};

/// Tokens of facts a prompt carries at most.
pub const RECALL_TOKENS: usize = 256;

/// The kept facts for a prompt whose last message is `question`: all of them when they
/// fit `budget` tokens, else those sharing words with the question first, then the most
/// used, then the newest. Each recall is counted.
pub async fn recall(store: &Store, counter: &dyn TokenCounter, question: &str, budget: usize) -> Result<Vec<Memory>> {
    let mut kept = store.memories(Some(MemoryStatus::Kept)).await?;
    if kept.is_empty() {
        return Ok(kept);
    }
    let matching: Vec<i64> = store
        .search_memories(question, 100)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    kept.sort_by_key(|m| {
        (
            matching.iter().position(|id| *id == m.id).unwrap_or(usize::MAX),
            std::cmp::Reverse(m.uses),
            std::cmp::Reverse(m.id),
        )
    });
    let mut left = budget;
    let mut chosen = Vec::new();
    for m in kept {
        let cost = counter.count(&m.text) + 2;
        if cost <= left {
            left -= cost;
            chosen.push(m);
        }
    }
    let ids: Vec<i64> = chosen.iter().map(|m| m.id).collect();
    store.memories_used(&ids).await?;
    Ok(chosen)
}

/// Puts `facts` in the prompt: after the system prompt, or as one.
pub fn add_to_prompt(messages: &mut Vec<ChatMessage>, facts: &[Memory]) {
    if facts.is_empty() {
        return;
    }
    let mut block = String::from(
        "What you know about the user, from what they told you before (use it when it helps; do not \
         list it unasked):",
    );
    for f in facts {
        block.push_str("\n- ");
        block.push_str(&crate::tasks::prompt::neutralize(&f.text));
    }
    match messages.first_mut() {
        Some(first) if first.role == crate::engine::Role::System => {
            first.content = format!("{}\n\n{block}", first.content);
        }
        _ => messages.insert(
            0,
            ChatMessage::system(format!("You are a helpful assistant.\n\n{block}")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Role;

    fn fact(id: i64, text: &str) -> Memory {
        Memory {
            id,
            text: text.into(),
            status: MemoryStatus::Kept,
            source_message_id: None,
            source_conversation_id: None,
            created_at: 0,
            updated_at: 0,
            uses: 0,
            last_used_at: None,
        }
    }

    #[test]
    fn facts_join_the_system_prompt_or_become_one() {
        let facts = [fact(1, "The user's sister is Anna.")];
        let mut plain = vec![ChatMessage::user("hi")];
        add_to_prompt(&mut plain, &facts);
        assert_eq!(plain[0].role, Role::System);
        assert!(plain[0].content.ends_with("- The user's sister is Anna."));
        assert_eq!(plain.len(), 2);
        let mut with = vec![ChatMessage::system("Be brief."), ChatMessage::user("hi")];
        add_to_prompt(&mut with, &facts);
        assert!(with[0].content.starts_with("Be brief.\n\nWhat you know"));
        assert_eq!(with.len(), 2);
        let mut none = vec![ChatMessage::user("hi")];
        add_to_prompt(&mut none, &[]);
        assert_eq!(none.len(), 1);
    }
}
