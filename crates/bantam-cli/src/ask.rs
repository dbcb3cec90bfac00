//! `bantam ask`: a question answered from the user's own documents and chats, with
//! numbered citations, or "not found in your files".

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use bantam_core::ask::{self, AskOptions, Outcome};
use bantam_core::tiers::Task;
use bantam_core::whole_document::{self, Reading};
use bantam_core::Engine;
use clap::Args;

use crate::context::Context;
use crate::search::Kind;
use crate::Global;

#[derive(Args, Debug)]
pub struct AskArgs {
    /// The question, in plain words
    #[arg(required = true, num_args = 1..)]
    pub question: Vec<String>,
    /// Only this kind (default: all)
    #[arg(long, value_enum)]
    pub kind: Option<Kind>,
    /// Passages given to the model, at most
    #[arg(long, default_value_t = 5)]
    pub sources: usize,
    /// The embedding model (default: all-MiniLM-L6-v2.F16.gguf in the models folder or
    /// in ~/.cache/bantam); without one, passages are found by words only
    #[arg(long, env = "BANTAM_EMBED_MODEL", value_name = "GGUF")]
    pub embed_model: Option<PathBuf>,
    /// How to answer: `auto` reads a whole document for "how many / list all / compare"
    /// questions and the closest passages otherwise; `whole` or `passages` forces one
    #[arg(long, value_enum, default_value_t = AskPath::Auto)]
    pub path: AskPath,
    /// The document a whole-document question is about (its id, `bantam docs list`);
    /// default: the one whose parts match the question best
    #[arg(long, value_name = "ID")]
    pub doc: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AskPath {
    Auto,
    Whole,
    Passages,
}

pub async fn run(global: &Global, args: AskArgs) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let question = args.question.join(" ");
    let embedder = crate::search::embedder(&ctx, global, args.embed_model.clone()).await?;
    let engine = ctx.task_engine(Task::Chat).await?;
    let whole = match args.path {
        AskPath::Whole => true,
        AskPath::Passages => false,
        AskPath::Auto => args.doc.is_some() || whole_document::is_whole_document(&question),
    };
    if whole {
        if let Some(doc) = match args.doc {
            Some(id) => Some(id),
            None => whole_document::document_for(&ctx.store, embedder.as_ref(), &question).await?,
        } {
            return whole_path(&ctx, &engine, doc, &question, args.json).await;
        }
        if args.path == AskPath::Whole {
            anyhow::bail!("no document matches the question: name one with --doc ID");
        }
    }
    let options = AskOptions {
        kinds: Kind::kinds(args.kind),
        sources: args.sources.max(1),
        ..AskOptions::default()
    };
    let stream = !args.json;
    let mut out = std::io::stdout();
    let answer = ask::ask(&ctx.store, &engine, embedder.as_ref(), &question, &options, |text| {
        if stream {
            let _ = write!(out, "{text}");
            let _ = out.flush();
        }
    })
    .await?;
    let code = if answer.found() { 0 } else { crate::exit::NOT_FOUND };
    if args.json {
        println!("{}", serde_json::to_string(&answer)?);
        return Ok(code);
    }
    match answer.outcome {
        Outcome::Answered => {
            println!("\n");
            for s in answer.citations() {
                let place = crate::search::place(&s.hit);
                println!("[{}] {place}", s.n);
            }
        }
        Outcome::Uncited => {
            println!("\n\nNot found in your files: the answer above cites none of them, so nothing backs it.");
        }
        Outcome::NotInSources | Outcome::NothingClose => {
            println!("Not found in your files.");
            if answer.outcome == Outcome::NotInSources {
                eprintln!(
                    "(the {} closest passages do not answer it; `bantam search` shows them)",
                    answer.sources.len()
                );
            }
        }
    }
    Ok(code)
}

/// Reads every part of the document, with progress, and says which path was taken.
async fn whole_path(ctx: &Context, engine: &Engine, doc: i64, question: &str, json: bool) -> Result<u8> {
    let mut counter: Option<bantam_bench::progress::Counter> = None;
    let answer = whole_document::answer(&ctx.store, engine, doc, question, |done, total| {
        if !json {
            counter
                .get_or_insert_with(|| bantam_bench::progress::Counter::new("parts read", total))
                .set(done);
        }
    })
    .await?;
    drop(counter);
    if json {
        println!("{}", serde_json::to_string(&answer)?);
    } else {
        println!("{}", answer.answer);
        let how = match answer.reading {
            Reading::Parts => format!("read all {} parts", answer.parts),
            Reading::Outline => "read the outline".to_string(),
        };
        println!(
            "\n(whole document: {how} of doc {} · {}; {})",
            answer.document_id,
            answer.document,
            whole_document::found_line(answer.items.len()).trim_end_matches([':', '.'])
        );
        for item in &answer.items {
            println!("  - {} ({})", item.text, item.place());
        }
    }
    Ok(if answer.items.is_empty() {
        crate::exit::NOT_FOUND
    } else {
        0
    })
}
