//! `bantam bench index-while-chatting`: a chat's time to first token while a mailbox is
//! indexed for search, against the same chats with nothing else running. Three rounds on
//! one engine and one embedding model: idle; the background indexer (`bantam_core::
//! indexer`, which waits for the engine to be idle before each small batch); and indexing
//! at full speed beside the chat (what it would cost without that). A chat's time to
//! first token is taken from before it steps the indexer aside to its first token. Each chat is sent a
//! pseudo-random 0–400 ms after the last one finished, so it lands anywhere in a batch,
//! as a user's would.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use bantam_core::embed::{EmbedConfig, Embedder};
use bantam_core::engine::{ChatMessage, Event, Request, Sampling};
use bantam_core::indexer::Indexer;
use bantam_core::{search, Engine, Store};
use clap::Args;
use serde::Serialize;

use crate::measure::percentile;
use crate::{Output, Setup};

#[derive(Args, Debug)]
pub struct IndexChatArgs {
    /// The embedding model (a GGUF with pooling)
    #[arg(long, value_name = "GGUF")]
    pub embed_model: PathBuf,
    /// A folder of mail files (.eml), read recursively; copies (a number added to the
    /// subject) fill the mailbox up to --messages
    #[arg(long, value_name = "DIR")]
    pub mail_dir: PathBuf,
    #[arg(long, default_value_t = 1000)]
    pub messages: usize,
    /// Chats per round
    #[arg(long, default_value_t = 8)]
    pub chats: usize,
    /// Threads for the embedding model (default: as the app, all cores)
    #[arg(long)]
    pub embed_threads: Option<usize>,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Serialize)]
struct Round {
    round: &'static str,
    ttft_p50_ms: f64,
    ttft_mean_ms: f64,
    /// Against the idle round's mean.
    ratio_mean: f64,
    /// Mail messages indexed while the round's chats ran.
    indexed: i64,
}

#[derive(Serialize)]
struct Report {
    model: PathBuf,
    embed_model: PathBuf,
    messages: usize,
    chats: usize,
    rounds: Vec<Round>,
}

const QUESTIONS: [&str; 4] = [
    "In one sentence, what is a good way to start the week?",
    "Give me one tip for writing a clear email.",
    "What is a polite way to decline a meeting?",
    "Suggest a title for a short note about a budget review.",
];

fn mail_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            mail_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "eml") {
            out.push(path);
        }
    }
    Ok(())
}

/// A mailbox of `n` messages from the files in `dir` (copies with a number added).
async fn fill(store: &Store, dir: &Path, n: usize) -> Result<()> {
    let mut files = Vec::new();
    mail_files(dir, &mut files)?;
    files.sort();
    let parsed: Vec<_> = files
        .iter()
        .filter_map(|f| {
            std::fs::read(f)
                .ok()
                .and_then(|b| bantam_core::mail::parse(&b, &f.to_string_lossy()).ok())
        })
        .collect();
    if parsed.is_empty() {
        bail!("no mail that parses in {}", dir.display());
    }
    for i in 0..n {
        let mut m = parsed[i % parsed.len()].clone();
        m.key = format!("{}#{i}", m.key);
        m.subject = format!("{} ({i})", m.subject);
        store.upsert_mail(&m).await?;
    }
    Ok(())
}

/// One chat's time to first token, from before it steps the indexer aside (as the app's
/// chat does) to its first token.
async fn ttft(engine: &Engine, indexer: Option<&Indexer>, question: &str) -> Result<f64> {
    let request = Request::chat(vec![ChatMessage::user(question)]).with_sampling(Sampling::greedy(8));
    let started = Instant::now();
    let aside = match indexer {
        Some(i) => Some(i.step_aside().await),
        None => None,
    };
    let mut generation = engine.submit(request)?;
    drop(aside);
    loop {
        match generation.next().await {
            Some(Event::Token(_)) => return Ok(started.elapsed().as_secs_f64() * 1000.0),
            Some(Event::Failed(e)) => return Err(e.into()),
            Some(Event::Done(_)) | None => bail!("the answer ended before its first token"),
            Some(_) => {}
        }
    }
}

/// A deterministic 0–400 ms pause before chat `i`.
fn pause(i: usize) -> Duration {
    Duration::from_millis(((i as u64).wrapping_mul(0x9E37_79B9) >> 7) % 400)
}

async fn round(engine: &Engine, indexer: Option<&Indexer>, chats: usize) -> Result<Vec<f64>> {
    let mut ms = Vec::new();
    for i in 0..chats {
        tokio::time::sleep(pause(i)).await;
        ms.push(ttft(engine, indexer, QUESTIONS[i % QUESTIONS.len()]).await?);
    }
    Ok(ms)
}

pub async fn run(setup: &Setup, args: &IndexChatArgs) -> Result<u8> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("bench.sqlite3")).await?;
    fill(&store, &args.mail_dir, args.messages).await?;
    let engine = Engine::start(setup.config(1)).await?;
    let embedder = Embedder::start(EmbedConfig {
        threads: args.embed_threads,
        ..EmbedConfig::new(&args.embed_model)
    })
    .await?;
    let model_id = embedder.info().model_id.clone();
    let pending = || async { store.unembedded_count(&model_id).await };
    // Warm: the model's first decode and the prompt's template.
    ttft(&engine, None, QUESTIONS[0]).await?;
    let chats = args.chats.max(1);

    let idle = round(&engine, None, chats).await?;
    let mut rounds = Vec::new();
    let mut add = |name: &'static str, ms: &mut Vec<f64>, indexed: i64, idle_mean: f64| {
        ms.sort_by(f64::total_cmp);
        let mean = ms.iter().sum::<f64>() / ms.len() as f64;
        rounds.push(Round {
            round: name,
            ttft_p50_ms: percentile(ms, 0.5),
            ttft_mean_ms: mean,
            ratio_mean: mean / idle_mean,
            indexed,
        });
    };
    let idle_mean = idle.iter().sum::<f64>() / idle.len() as f64;
    add("idle", &mut idle.clone(), 0, idle_mean);

    // The background indexer, yielding to the engine.
    let indexer = Indexer::new(store.clone(), embedder.clone());
    let before = pending().await?;
    let chat_engine = engine.clone();
    let background = indexer.start(move || {
        let e = chat_engine.clone();
        async move { Some(e) }
    });
    let mut ms = round(&engine, Some(&indexer), chats).await?;
    drop(background);
    let after = pending().await?;
    if after == 0 {
        bail!("the mailbox was indexed before the chats ended: give more --messages");
    }
    add("background indexer", &mut ms, before - after, idle_mean);

    // Indexing at full speed beside the chats.
    let before = after;
    let full = {
        let (store, embedder) = (store.clone(), embedder.clone());
        tokio::spawn(async move { search::index(&store, &embedder, |_, _| {}).await })
    };
    let mut ms = round(&engine, None, chats).await?;
    full.abort();
    let after = pending().await?;
    add("indexing at full speed", &mut ms, before - after, idle_mean);

    if !args.out.json {
        println!(
            "{} mail messages, {} chats a round, TTFT (8-token answers):",
            args.messages, chats
        );
        for r in &rounds {
            println!(
                "  {:<24} p50 {:7.0} ms   mean {:7.0} ms   {:.2}× idle   ({} indexed meanwhile)",
                r.round, r.ttft_p50_ms, r.ttft_mean_ms, r.ratio_mean, r.indexed
            );
        }
    }
    args.out.write(&Report {
        model: setup.model.clone(),
        embed_model: args.embed_model.clone(),
        messages: args.messages,
        chats,
        rounds,
    })?;
    Ok(0)
}
