//! `bantam ask`: a question answered from the user's own documents and chats, with
//! numbered citations, or "not found in your files".

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use bantam_core::ask::{self, AskOptions, Outcome};
use bantam_core::tiers::Task;
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
    #[arg(long)]
    pub json: bool,
}

pub async fn run(global: &Global, args: AskArgs) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let question = args.question.join(" ");
    let embedder = crate::search::embedder(&ctx, global, args.embed_model.clone()).await?;
    let engine = ctx.task_engine(Task::Chat).await?;
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
