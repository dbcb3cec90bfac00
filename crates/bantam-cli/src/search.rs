//! `bantam search`: chats and documents by words and by meaning, fused; what has no
//! vector yet is embedded first (with progress), so results include it.

use std::path::PathBuf;

use anyhow::Result;
use bantam_core::ask;
use bantam_core::embed::{EmbedConfig, Embedder};
use bantam_core::search::{self, SearchOptions};
use bantam_core::store::SourceKind;
use clap::{Args, ValueEnum};

use crate::context::Context;
use crate::Global;

/// The embedding model the fetch script makes (models/fetch-embedding-model.sh).

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// What to look for, in plain words
    #[arg(required = true, num_args = 1..)]
    pub words: Vec<String>,
    /// Only this kind (default: all)
    #[arg(long, value_enum)]
    pub kind: Option<Kind>,
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// The embedding model (default: all-MiniLM-L6-v2.F16.gguf in the models folder or
    /// in ~/.cache/bantam); without one, words only
    #[arg(long, env = "BANTAM_EMBED_MODEL", value_name = "GGUF")]
    pub embed_model: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum Kind {
    Chat,
    Doc,
    Memory,
    Mail,
}

impl Kind {
    /// What is searched for this choice (none: everything).
    pub fn kinds(kind: Option<Kind>) -> Vec<SourceKind> {
        match kind {
            None => SearchOptions::default().kinds,
            Some(Kind::Chat) => vec![SourceKind::Message],
            Some(Kind::Doc) => vec![SourceKind::Chunk],
            Some(Kind::Memory) => vec![SourceKind::Memory],
            Some(Kind::Mail) => vec![SourceKind::Mail],
        }
    }
}

pub async fn run(global: &Global, args: SearchArgs) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let query = args.words.join(" ");
    let kinds = Kind::kinds(args.kind);
    let embedder = embedder(&ctx, global, args.embed_model.clone()).await?;
    let options = SearchOptions {
        kinds,
        limit: args.limit,
    };
    let mut hits = search::search(&ctx.store, embedder.as_ref(), &query, &options).await?;
    // A hit by meaning alone is listed only when close, as in the app: the nearest of
    // unrelated passages is still the nearest, and a list ending in them reads as noise.
    hits.retain(|h| h.is_close(ask::DEFAULT_MIN_COSINE));
    if args.json {
        println!("{}", serde_json::to_string(&hits)?);
    } else if hits.is_empty() {
        eprintln!("nothing found for \"{query}\"");
    } else {
        for h in &hits {
            let place = place(h);
            let how = match (h.word_rank, h.meaning_rank) {
                (Some(_), Some(_)) => "words + meaning",
                (Some(_), None) => "words",
                _ => "meaning",
            };
            println!("{place}  ({how})\n    {}", h.snippet);
        }
    }
    Ok(if hits.is_empty() { crate::exit::NOT_FOUND } else { 0 })
}

/// The embedding model (`path`, else the default one in the models folder or the cache),
/// started, with everything not yet embedded indexed first (with progress); `None`, with
/// a note, when there is none: then search is by words only.
pub async fn embedder(ctx: &Context, global: &Global, path: Option<PathBuf>) -> Result<Option<Embedder>> {
    let model = path.or_else(|| search::find_embed_model(&ctx.data.models_dir()));
    let Some(path) = model else {
        eprintln!(
            "note: no embedding model, so words only — models/fetch-embedding-model.sh makes one \
             (or pass --embed-model)"
        );
        return Ok(None);
    };
    let embedder = Embedder::start(EmbedConfig {
        threads: global.threads,
        ..EmbedConfig::new(path)
    })
    .await?;
    let mut counter: Option<bantam_bench::progress::Counter> = None;
    search::index(&ctx.store, &embedder, |done, total| {
        counter
            .get_or_insert_with(|| bantam_bench::progress::Counter::new("embedded for search", total))
            .set(done);
    })
    .await?;
    Ok(Some(embedder))
}

/// Where a hit opens, in a few words: "chat 3 · Title", "doc 2 · fhs.pdf · p. 38",
/// "memory 5", "mail 7 · Subject".
pub fn place(h: &bantam_core::search::Hit) -> String {
    match (h.kind, h.page) {
        (SourceKind::Message, _) => format!("chat {} · {}", h.parent_id, h.title),
        (SourceKind::Chunk, Some(p)) => format!("doc {} · {} · p. {p}", h.parent_id, h.title),
        (SourceKind::Chunk, None) => format!("doc {} · {} · part {}", h.parent_id, h.title, h.part + 1),
        (SourceKind::Memory, _) => format!("memory {}", h.source_id),
        (SourceKind::Mail, _) => format!("mail {} · {}", h.source_id, h.title),
    }
}
