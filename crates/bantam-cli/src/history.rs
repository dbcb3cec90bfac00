//! `bantam history`: the conversations in the store.

use anyhow::Result;
use clap::Subcommand;

use crate::context::Context;
use crate::Global;

#[derive(Subcommand, Debug)]
pub enum HistoryCommand {
    /// Conversations, most recent first
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Every message of one conversation
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Search all messages (every word must match)
    Search {
        #[arg(required = true, num_args = 1..)]
        words: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Rename a conversation
    Rename { id: i64, title: String },
    /// Delete a conversation and its messages
    Delete { id: i64 },
}

fn when(ms: i64) -> String {
    // Seconds ago → a short human form; exact timestamps are in --json.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(ms);
    let s = (now - ms).max(0) / 1000;
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

pub async fn run(global: &Global, cmd: HistoryCommand) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let store = &ctx.store;
    match cmd {
        HistoryCommand::List { limit, json } => {
            let list = store.list_conversations(limit).await?;
            if json {
                println!("{}", serde_json::to_string(&list)?);
            } else if list.is_empty() {
                eprintln!("no conversations yet — start one with `bantam chat`");
            } else {
                for c in list {
                    println!(
                        "{:>5}  {:<14} {:>3} msgs  {}",
                        c.id,
                        when(c.updated_at),
                        c.message_count,
                        c.title
                    );
                }
            }
        }
        HistoryCommand::Show { id, json } => {
            let conversation = store.conversation(id).await?;
            let messages = store.messages(id).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"conversation": conversation, "messages": messages})
                );
            } else {
                println!("# {} (conversation {id})", conversation.title);
                if let Some(system) = &conversation.system_prompt {
                    println!("\n[system] {system}");
                }
                for m in messages {
                    println!("\n[{}] {}", m.role, m.content);
                }
            }
        }
        HistoryCommand::Search { words, limit, json } => {
            let hits = store.search_messages(&words.join(" "), limit).await?;
            if json {
                println!("{}", serde_json::to_string(&hits)?);
            } else if hits.is_empty() {
                eprintln!("nothing found for \"{}\"", words.join(" "));
                return Ok(1);
            } else {
                for h in hits {
                    println!(
                        "{:>5}  {:<24} [{}] {}",
                        h.conversation_id,
                        truncate(&h.conversation_title, 24),
                        h.role,
                        h.snippet.replace('\n', " ")
                    );
                }
            }
        }
        HistoryCommand::Rename { id, title } => {
            store.rename_conversation(id, &title).await?;
            eprintln!("renamed conversation {id}");
        }
        HistoryCommand::Delete { id } => {
            store.delete_conversation(id).await?;
            eprintln!("deleted conversation {id}");
        }
    }
    Ok(0)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}
