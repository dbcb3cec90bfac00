//! `bantam memory`: the facts about the user that chats recall — list, add, edit,
//! keep (a proposed one), delete, search, export, import, forget-all.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};
use bantam_core::memory;
use bantam_core::store::{Memory, MemoryStatus};
use clap::Subcommand;
use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::Global;

#[derive(Subcommand, Debug)]
pub enum MemoryCommand {
    /// Every fact, newest first (with where it came from and how often it was recalled)
    List {
        /// Only the proposed ones, waiting to be kept
        #[arg(long)]
        proposed: bool,
        #[arg(long)]
        json: bool,
    },
    /// Remember a fact ("My sister Anna lives in Lyon")
    Add {
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Change a fact's words
    Edit {
        id: i64,
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Keep a proposed fact: chats recall it from now on
    Keep { id: i64 },
    /// Forget one fact (its words and vectors go with it)
    Delete { id: i64 },
    /// Facts matching any of these words
    Search {
        #[arg(required = true, num_args = 1..)]
        words: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Every fact as JSON (to FILE, or stdout)
    Export { file: Option<PathBuf> },
    /// Facts from an export (JSON: a list of {"text", "status"}); ones already there are
    /// not added twice
    Import { file: PathBuf },
    /// Whether chats propose facts from your messages, and whether they are kept without
    /// asking; without options, shows the settings
    Settings {
        #[arg(long, value_name = "on|off", value_parser = on_off)]
        propose: Option<bool>,
        #[arg(long, value_name = "on|off", value_parser = on_off)]
        auto_keep: Option<bool>,
    },
    /// Forget every fact and leave nothing of them in the database file (the chats they
    /// came from stay: `bantam history delete`)
    ForgetAll {
        /// Yes, forget them all (asked for: this cannot be undone)
        #[arg(long)]
        yes: bool,
    },
}

/// One fact in an export.
#[derive(Serialize, Deserialize)]
struct Exported {
    text: String,
    #[serde(default = "kept")]
    status: MemoryStatus,
    #[serde(default, skip_deserializing)]
    created_at: i64,
    #[serde(default, skip_deserializing)]
    uses: i64,
}

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(format!("{s}: say on or off")),
    }
}

fn kept() -> MemoryStatus {
    MemoryStatus::Kept
}

fn line(m: &Memory) -> String {
    let from = match (m.source_conversation_id, m.source_message_id) {
        (Some(c), _) => format!("from chat {c}"),
        (None, Some(_)) => "from a deleted chat".to_string(),
        (None, None) => "added by hand".to_string(),
    };
    let status = if m.status == MemoryStatus::Proposed {
        " · proposed"
    } else {
        ""
    };
    format!(
        "{:>5}  {}\n       {from} · recalled {} time{}{status}",
        m.id,
        m.text,
        m.uses,
        if m.uses == 1 { "" } else { "s" }
    )
}

pub async fn run(global: &Global, cmd: MemoryCommand) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let store = &ctx.store;
    match cmd {
        MemoryCommand::List { proposed, json } => {
            let facts = store.memories(proposed.then_some(MemoryStatus::Proposed)).await?;
            if json {
                println!("{}", serde_json::to_string(&facts)?);
            } else if facts.is_empty() {
                eprintln!(
                    "{}",
                    if proposed {
                        "no proposed facts"
                    } else {
                        "no facts yet: `bantam memory add \"…\"`, or keep one proposed in a chat"
                    }
                );
            } else {
                for m in &facts {
                    println!("{}", line(m));
                }
            }
        }
        MemoryCommand::Add { text } => {
            let m = store.add_memory(&text.join(" "), MemoryStatus::Kept, None).await?;
            eprintln!("remembered as {}", m.id);
        }
        MemoryCommand::Edit { id, text } => {
            store.edit_memory(id, &text.join(" ")).await?;
            eprintln!("changed fact {id}");
        }
        MemoryCommand::Keep { id } => {
            store.keep_memory(id).await?;
            eprintln!("kept fact {id}");
        }
        MemoryCommand::Delete { id } => {
            store.delete_memory(id).await?;
            eprintln!("forgot fact {id}");
        }
        MemoryCommand::Search { words, json } => {
            let mut facts = Vec::new();
            for (id, _) in store.search_memories(&words.join(" "), 50).await? {
                facts.push(store.memory(id).await?);
            }
            if json {
                println!("{}", serde_json::to_string(&facts)?);
            } else {
                for m in &facts {
                    println!("{}", line(m));
                }
            }
            if facts.is_empty() {
                eprintln!("no fact matches");
                return Ok(crate::exit::NOT_FOUND);
            }
        }
        MemoryCommand::Export { file } => {
            let facts: Vec<Exported> = store
                .memories(None)
                .await?
                .into_iter()
                .rev()
                .map(|m| Exported {
                    text: m.text,
                    status: m.status,
                    created_at: m.created_at,
                    uses: m.uses,
                })
                .collect();
            let text = serde_json::to_string_pretty(&facts)?;
            match file {
                Some(path) => {
                    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("exported {} facts to {}", facts.len(), path.display());
                }
                None => println!("{text}"),
            }
        }
        MemoryCommand::Import { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let facts: Vec<Exported> = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a memory export (a JSON list of facts)", file.display()))?;
            let before = store.memories(None).await?.len();
            for f in &facts {
                store.add_memory(&f.text, f.status, None).await?;
            }
            let added = store.memories(None).await?.len() - before;
            eprintln!("imported {added} facts ({} already there)", facts.len() - added);
        }
        MemoryCommand::Settings { propose, auto_keep } => {
            let mut settings = memory::settings(store).await?;
            if propose.is_some() || auto_keep.is_some() {
                settings.propose = propose.unwrap_or(settings.propose);
                settings.auto_keep = auto_keep.unwrap_or(settings.auto_keep);
                store.set_setting(memory::SETTINGS_KEY, &settings).await?;
            }
            let word = |b: bool| if b { "on" } else { "off" };
            println!(
                "propose facts from your messages: {}\nkeep them without asking: {}",
                word(settings.propose),
                word(settings.auto_keep)
            );
        }
        MemoryCommand::ForgetAll { yes } => {
            if !yes {
                bail!("this forgets every fact for good: add --yes");
            }
            let n = store.forget_all_memories().await?;
            eprintln!("forgot {n} facts; nothing of them is left in the database file");
        }
    }
    Ok(0)
}
