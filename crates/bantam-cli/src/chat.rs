//! `bantam chat`: one question with `-p` (or on stdin), or an interactive session.
//! Ctrl-C stops the answer being written, not the program.

use std::io::{IsTerminal, Read, Write};

use anyhow::{bail, Result};
use bantam_core::engine::{Completion, Event};
use bantam_core::router::{Decision, Router};
use bantam_core::store::MemoryStatus;
use bantam_core::tasks::chat::{ChatOptions, ChatService};
use bantam_core::tiers::TierChoice;
use rustyline::error::ReadlineError;
use serde::Serialize;

use crate::context::Context;
use crate::{exit, Global};

#[derive(clap::Args, Debug)]
pub struct ChatArgs {
    /// Ask one question, print the answer and exit
    #[arg(short, long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// Continue this conversation (see `bantam history list`)
    #[arg(long, value_name = "ID")]
    pub conversation: Option<i64>,
    /// Print one JSON object with the answer, counts and timings (one-shot only)
    #[arg(long)]
    pub json: bool,
    /// System prompt for a new conversation
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Sampling temperature (0 = always the most likely token)
    #[arg(long)]
    pub temperature: Option<f32>,
    /// Most tokens in an answer
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<usize>,
    /// Seed for reproducible sampling
    #[arg(long)]
    pub seed: Option<u32>,
    /// Where answers are made: auto (the router decides), small, workhorse or remote
    /// (see `bantam tiers`). Unset: the conversation's own choice (`bantam tiers task
    /// chat` for new ones)
    #[arg(long, value_parser = parse_tier)]
    pub tier: Option<TierChoice>,
}

fn parse_tier(s: &str) -> Result<TierChoice, String> {
    TierChoice::parse(s).ok_or_else(|| format!("one of {}", TierChoice::NAMES))
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    conversation_id: i64,
    model: &'a str,
    route: &'a Decision,
    #[serde(flatten)]
    completion: &'a Completion,
}

pub async fn run(global: &Global, args: ChatArgs) -> Result<u8> {
    let ctx = Context::open(global).await?;
    if let Some(id) = args.conversation {
        ctx.store.conversation(id).await?; // fail fast (exit 4) before loading the model
    }
    let mut options = ChatOptions {
        system_prompt: args.system.clone(),
        tier: args.tier,
        ..ChatOptions::default()
    };
    if let Some(t) = args.temperature {
        options.sampling.temperature = t;
    }
    if let Some(n) = args.max_tokens {
        options.sampling.max_tokens = n;
    }
    options.sampling.seed = args.seed;

    let one_shot = match &args.prompt {
        Some(p) => Some(p.clone()),
        None if !std::io::stdin().is_terminal() => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            Some(text)
        }
        None => None,
    };
    if args.json && one_shot.is_none() {
        bail!("--json needs a question (-p TEXT or on stdin)");
    }
    if one_shot.as_deref().is_some_and(|q| q.trim().is_empty()) {
        bail!("the question is empty");
    }
    let engine = ctx.engine().await?;
    let chat = ChatService::with_router(Router::new(ctx.tiers(engine).await?), ctx.store.clone());
    match one_shot {
        Some(question) => ask_once(&chat, args.conversation, &question, &options, args.json).await,
        None => repl(&ctx, &chat, args.conversation, &options).await,
    }
}

/// One streamed answer: its conversation, where it was made, and whether Ctrl-C stopped it.
struct Answered {
    conversation: i64,
    question_id: Option<i64>,
    model: String,
    route: Decision,
    completion: Completion,
    interrupted: bool,
}

/// Streams one answer to stdout.
async fn answer(
    chat: &ChatService,
    conversation: Option<i64>,
    question: &str,
    options: &ChatOptions,
    print: bool,
) -> Result<Answered> {
    let mut turn = chat.send(conversation, question, options).await?;
    let id = turn.conversation.id;
    let question_id = turn.question_id();
    let route = turn.decision().clone();
    let model = turn.model().to_string();
    // A fallback is said at once, before the answer: the user asked for something else.
    if let Some(note) = &route.note {
        eprintln!("({note})");
    }
    if print && !turn.recalled().is_empty() {
        let facts: Vec<&str> = turn.recalled().iter().map(|m| m.text.as_str()).collect();
        eprintln!("(from memory: {})", facts.join(" · "));
    }
    let canceller = turn.canceller();
    let mut interrupted = false;
    let mut stdout = std::io::stdout();
    loop {
        let event = tokio::select! {
            event = turn.next() => event,
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                canceller.cancel();
                continue;
            }
        };
        match event {
            Some(Event::Started { dropped_messages, .. }) if dropped_messages > 0 => {
                eprintln!("(the oldest {dropped_messages} messages no longer fit the context and were left out)");
            }
            Some(Event::Token(t)) if print => {
                stdout.write_all(t.as_bytes())?;
                stdout.flush()?;
            }
            Some(Event::Done(completion)) => {
                return Ok(Answered {
                    conversation: id,
                    question_id,
                    model,
                    route,
                    completion,
                    interrupted,
                })
            }
            Some(Event::Failed(e)) => return Err(e.into()),
            Some(_) => {}
            None => bail!("the engine stopped"),
        }
    }
}

/// Facts the user's message states about them, proposed for memory (or kept, when the
/// user turned that on), said on stderr. A failure here never fails the chat.
async fn remember(chat: &ChatService, a: &Answered, question: &str) {
    let Some(id) = a.question_id else { return };
    match bantam_core::memory::propose_from_message(chat.engine(), chat.store(), id, question).await {
        Ok(facts) => {
            for f in facts {
                if f.status == MemoryStatus::Kept {
                    eprintln!("(remembered: {} — `bantam memory delete {}` forgets it)", f.text, f.id);
                } else {
                    eprintln!("(remember this? {} — `bantam memory keep {}`)", f.text, f.id);
                }
            }
        }
        Err(e) => eprintln!("(nothing proposed for memory: {e})"),
    }
}

fn stats_line(a: &Answered) -> String {
    let c = &a.completion;
    let mut line = format!(
        "{} · {} ({}) · {} tokens · {:.1} tok/s · first token {:.0} ms",
        a.route.tier.as_str(),
        a.route.reason,
        a.model,
        c.usage.generated_tokens,
        c.timings.tokens_per_s,
        c.timings.time_to_first_token_ms
    );
    if c.usage.cached_tokens > 0 {
        line.push_str(&format!(
            " · {} of {} prompt tokens cached",
            c.usage.cached_tokens, c.usage.prompt_tokens
        ));
    }
    match c.finish_reason.as_str() {
        "length" => line.push_str(" · cut off at the length limit"),
        "cancelled" => line.push_str(" · stopped"),
        _ => {}
    }
    line
}

async fn ask_once(
    chat: &ChatService,
    conversation: Option<i64>,
    question: &str,
    options: &ChatOptions,
    json: bool,
) -> Result<u8> {
    let a = answer(chat, conversation, question, options, !json).await?;
    if json {
        let out = JsonAnswer {
            conversation_id: a.conversation,
            model: &a.model,
            route: &a.route,
            completion: &a.completion,
        };
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!();
        if std::io::stderr().is_terminal() {
            eprintln!("\x1b[2m{} · conversation {}\x1b[0m", stats_line(&a), a.conversation);
        }
    }
    remember(chat, &a, question).await;
    Ok(if a.interrupted { exit::INTERRUPTED } else { 0 })
}

const HELP: &str = "Enter sends; end a line with \\ to continue on the next. \
Ctrl-C stops an answer, Ctrl-D or /quit leaves. /new starts a new conversation.";

async fn repl(ctx: &Context, chat: &ChatService, mut conversation: Option<i64>, options: &ChatOptions) -> Result<u8> {
    let info = chat.engine().info();
    eprintln!(
        "Bantam · {} ({}, {}) · {HELP}",
        info.name,
        info.quantization,
        bantam_core::units::human_params(info.parameters)
    );
    if let Some(id) = conversation {
        let c = ctx.store.conversation(id).await?;
        eprintln!("continuing \"{}\" ({} messages)", c.title, c.message_count);
    }
    let mut editor = rustyline::DefaultEditor::new()?;
    let history = ctx.data.chat_history_file();
    let _ = editor.load_history(&history);
    loop {
        let Some(question) = read_question(&mut editor)? else {
            break;
        };
        let trimmed = question.trim();
        match trimmed {
            "" => continue,
            "/quit" | "/exit" => break,
            "/help" => {
                eprintln!("{HELP}");
                continue;
            }
            "/new" => {
                conversation = None;
                eprintln!("(new conversation)");
                continue;
            }
            _ => {}
        }
        let _ = editor.add_history_entry(trimmed);
        let _ = editor.save_history(&history);
        match answer(chat, conversation, trimmed, options, true).await {
            Ok(a) => {
                conversation = Some(a.conversation);
                println!();
                eprintln!("\x1b[2m{}\x1b[0m", stats_line(&a));
                remember(chat, &a, trimmed).await;
            }
            // A failed answer is reported; the session goes on.
            Err(e) => eprintln!("\nerror: {e:#}"),
        }
    }
    Ok(0)
}

/// Reads one question; a line ending in `\` continues on the next. `None` on Ctrl-D.
fn read_question(editor: &mut rustyline::DefaultEditor) -> Result<Option<String>> {
    let mut text = String::new();
    loop {
        let prompt = if text.is_empty() { "› " } else { "… " };
        match tokio::task::block_in_place(|| editor.readline(prompt)) {
            Ok(line) => match line.strip_suffix('\\') {
                Some(head) => {
                    text.push_str(head);
                    text.push('\n');
                }
                None => {
                    text.push_str(&line);
                    return Ok(Some(text));
                }
            },
            // Ctrl-C while typing clears the line, as in a shell.
            Err(ReadlineError::Interrupted) => text.clear(),
            Err(ReadlineError::Eof) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
}
