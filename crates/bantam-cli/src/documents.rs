//! `bantam summarize`, `bantam ingest` and `bantam documents`: documents from the command
//! line. With several files each gets its own result or error; with `--json` each is one
//! JSON line on stdout. The exit code is 1 when any file failed.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Result;
use bantam_core::tasks::documents::{
    DocumentEvent, DocumentMetadata, DocumentOptions, DocumentService, SummaryLength, Target,
};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::context::Context;
use crate::{exit, Global};

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Length {
    /// One sentence
    Tldr,
    /// One paragraph
    Short,
    /// 3–7 bullet points
    Bullets,
}

impl From<Length> for SummaryLength {
    fn from(l: Length) -> Self {
        match l {
            Length::Tldr => SummaryLength::Tldr,
            Length::Short => SummaryLength::Short,
            Length::Bullets => SummaryLength::Bullets,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct DocumentFlags {
    /// Largest file to read, in MiB
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub max_size: u64,
    /// Token budget of a chunk (default: from the context size)
    #[arg(long, value_name = "N")]
    pub chunk_tokens: Option<usize>,
}

#[derive(Args, Debug)]
pub struct SummarizeArgs {
    #[arg(required = true, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "short")]
    pub length: Length,
    /// One JSON object per file on stdout
    #[arg(long)]
    pub json: bool,
    /// Summarize again even if a summary of this content is stored
    #[arg(long)]
    pub redo: bool,
    /// Summarize chunks one at a time instead of batched (for comparison)
    #[arg(long)]
    pub sequential: bool,
    #[command(flatten)]
    pub flags: DocumentFlags,
}

#[derive(Args, Debug)]
pub struct IngestArgs {
    #[arg(required = true, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// One JSON object per file on stdout, with text, chunks and metadata
    #[arg(long)]
    pub json: bool,
    /// Extract again even if metadata of this content is stored
    #[arg(long)]
    pub redo: bool,
    #[command(flatten)]
    pub flags: DocumentFlags,
}

#[derive(Subcommand, Debug)]
pub enum DocumentsCommand {
    /// Documents read so far, most recent first; with words, those that match
    List {
        words: Vec<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// One document's metadata and stored summaries
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Forget a document, its chunks and summaries
    Delete { id: i64 },
}

async fn service(ctx: &Context, flags: &DocumentFlags, sequential: bool) -> Result<DocumentService> {
    let engine = ctx.task_engine(bantam_core::tiers::Task::Documents).await?;
    Ok(DocumentService::new(
        engine,
        ctx.store.clone(),
        DocumentOptions {
            max_bytes: flags.max_size.saturating_mul(1024 * 1024),
            chunk_tokens: flags.chunk_tokens,
            map_concurrency: sequential.then_some(1),
            ..DocumentOptions::default()
        },
    ))
}

fn error_json(file: &std::path::Path, err: &bantam_core::Error) -> serde_json::Value {
    let kind = match err {
        bantam_core::Error::Document { source, .. } => serde_json::to_value(source).unwrap_or_default()["kind"].clone(),
        bantam_core::Error::Io { .. } => json!("io"),
        _ => json!("error"),
    };
    json!({"file": file, "ok": false, "error": {"kind": kind, "message": err.to_string()}})
}

pub async fn summarize(global: &Global, args: SummarizeArgs) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let service = service(&ctx, &args.flags, args.sequential).await?;
    let progress = std::io::stderr().is_terminal();
    let mut failed = 0;
    for file in &args.files {
        let mut run = service.summarize(Target::Path(file.clone()), args.length.into(), args.redo);
        let mut stdout = std::io::stdout();
        let mut streamed = false;
        loop {
            let event = tokio::select! {
                e = run.next() => e,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("\ninterrupted; finished chunk summaries are kept for the next run");
                    return Ok(exit::INTERRUPTED);
                }
            };
            let Some(event) = event else { break };
            match event {
                DocumentEvent::Ingested(doc) => {
                    if !args.json {
                        let d = &doc.document;
                        let pages = d.pages.map(|p| format!(", {p} pages")).unwrap_or_default();
                        eprintln!(
                            "{} ({}{pages}, {} words, {} chunks)",
                            d.name,
                            d.format,
                            d.words,
                            doc.chunks.len()
                        );
                    }
                }
                DocumentEvent::Mapped { done, total } => {
                    if progress {
                        eprint!("\rsummarizing parts: {done}/{total}");
                        if done == total {
                            eprintln!();
                        }
                    }
                }
                DocumentEvent::Token(t) => {
                    if !args.json {
                        if !streamed {
                            println!("# {}\n", file.display());
                            streamed = true;
                        }
                        print!("{t}");
                        let _ = stdout.flush();
                    }
                }
                DocumentEvent::Metadata(_) => {}
                DocumentEvent::Done(result) => {
                    if args.json {
                        println!(
                            "{}",
                            json!({"file": file, "ok": true, "document_id": result.document_id,
                                   "length": result.length, "summary": result.text, "cached": result.cached,
                                   "chunks": result.chunks, "mapped": result.mapped,
                                   "map_reduce": result.map_reduce, "metadata": result.metadata,
                                   "metadata_error": result.metadata_error})
                        );
                    } else {
                        if !streamed {
                            println!("# {}\n\n{}", file.display(), result.text);
                        } else {
                            println!();
                        }
                        if let Some(m) = &result.metadata {
                            print_metadata(m);
                        } else if let Some(e) = &result.metadata_error {
                            eprintln!("(no metadata: {e})");
                        }
                        println!();
                    }
                    break;
                }
                DocumentEvent::Failed(e) => {
                    failed += 1;
                    if args.json {
                        println!("{}", error_json(file, &e));
                    } else {
                        eprintln!("error: {e}");
                    }
                    break;
                }
            }
        }
    }
    Ok(if failed > 0 { exit::ERROR } else { 0 })
}

fn print_metadata(m: &DocumentMetadata) {
    let e = &m.extracted;
    println!();
    println!("Title: {}", e.title);
    println!("Type: {:?}", e.document_type);
    if !e.authors.is_empty() {
        println!("Authors: {}", e.authors.join(", "));
    }
    if !e.dates.is_empty() {
        println!("Dates: {}", e.dates.join(", "));
    }
    let pages = m.pages.map(|p| format!("{p} pages, ")).unwrap_or_default();
    println!("Size: {pages}{} words", m.words);
    if !e.key_points.is_empty() {
        println!("Key points:");
        for p in &e.key_points {
            println!("  - {p}");
        }
    }
}

pub async fn ingest(global: &Global, args: IngestArgs) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let service = service(&ctx, &args.flags, false).await?;
    let mut failed = 0;
    for file in &args.files {
        let result = async {
            let doc = service.ingest(file).await?;
            let metadata = service.metadata(&doc, args.redo).await;
            Ok::<_, bantam_core::Error>((doc, metadata))
        }
        .await;
        match result {
            Ok((doc, metadata)) => {
                let text = ctx.store.document_text(doc.document.id).await?;
                let d = &doc.document;
                if args.json {
                    let chunks: Vec<_> = doc
                        .chunks
                        .iter()
                        .map(|c| {
                            json!({"index": c.idx, "tokens": c.tokens, "start": c.start_byte, "end": c.end_byte,
                                   "page_start": c.page_start, "page_end": c.page_end,
                                   "heading_path": serde_json::from_str::<serde_json::Value>(&c.heading_path)
                                       .unwrap_or_default(),
                                   "text": c.text})
                        })
                        .collect();
                    let (metadata, metadata_error) = match &metadata {
                        Ok(m) => (json!(m), None),
                        Err(e) => (serde_json::Value::Null, Some(e.to_string())),
                    };
                    println!(
                        "{}",
                        json!({"file": file, "ok": true, "document_id": d.id, "format": d.format, "pages": d.pages,
                               "words": d.words, "size_bytes": d.size_bytes, "sha256": d.sha256, "text": text,
                               "chunks": chunks, "metadata": metadata, "metadata_error": metadata_error})
                    );
                } else {
                    let pages = d.pages.map(|p| format!(", {p} pages")).unwrap_or_default();
                    println!(
                        "{}: {}{pages}, {} words, {} chunks (document {})",
                        file.display(),
                        d.format,
                        d.words,
                        doc.chunks.len(),
                        d.id
                    );
                    match &metadata {
                        Ok(m) => print_metadata(m),
                        Err(e) => eprintln!("(no metadata: {e})"),
                    }
                }
            }
            Err(e) => {
                failed += 1;
                if args.json {
                    println!("{}", error_json(file, &e));
                } else {
                    eprintln!("error: {e}");
                }
            }
        }
    }
    Ok(if failed > 0 { exit::ERROR } else { 0 })
}

pub async fn documents(global: &Global, cmd: DocumentsCommand) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let store = &ctx.store;
    match cmd {
        DocumentsCommand::List { words, limit, json } => {
            let query = words.join(" ");
            let list = store
                .list_documents((!query.trim().is_empty()).then_some(query.as_str()), limit)
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                eprintln!("no documents yet; try `bantam summarize FILE`");
            } else {
                for d in list {
                    let title = d
                        .metadata
                        .as_deref()
                        .and_then(|m| serde_json::from_str::<DocumentMetadata>(m).ok())
                        .map(|m| m.extracted.title)
                        .unwrap_or_default();
                    println!(
                        "{:>5}  {:<9} {:>7} words  {}  {}",
                        d.id, d.format, d.words, d.name, title
                    );
                }
            }
        }
        DocumentsCommand::Show { id, json } => {
            let d = store.document(id).await?;
            let summaries = store.summaries(id).await?;
            let metadata: Option<DocumentMetadata> = d.metadata.as_deref().and_then(|m| serde_json::from_str(m).ok());
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &json!({"document": d, "metadata": metadata, "summaries": summaries})
                    )?
                );
            } else {
                println!("{} ({}, {} words) — {}", d.name, d.format, d.words, d.path);
                if let Some(m) = &metadata {
                    print_metadata(m);
                }
                for s in summaries {
                    println!("\n[{}]\n{}", s.length, s.text);
                }
            }
        }
        DocumentsCommand::Delete { id } => {
            store.delete_document(id).await?;
            eprintln!("deleted document {id}");
        }
    }
    Ok(0)
}
