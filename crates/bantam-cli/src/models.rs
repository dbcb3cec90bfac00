//! `bantam models`: the catalogue, imported models, and GGUF facts.

use std::path::PathBuf;

use anyhow::Result;
use bantam_core::catalog::catalog;
use bantam_core::engine::inspect_model;
use bantam_core::store::settings::keys;
use clap::Subcommand;
use serde::Serialize;

use crate::chat::human_params;
use crate::context::Context;
use crate::Global;

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// The recommended models and the ones on this machine
    List {
        #[arg(long)]
        json: bool,
    },
    /// Register a local GGUF file (checked first: llama.cpp must be able to load it)
    Import {
        path: PathBuf,
        /// Also make it the default model
        #[arg(long)]
        default: bool,
    },
    /// Show a GGUF file's architecture, size, quantization and context length
    Info {
        path: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Show the default model, or set it to PATH
    Default { path: Option<PathBuf> },
}

#[derive(Serialize)]
struct Listing {
    id: String,
    name: String,
    tier: String,
    params: String,
    quantization: String,
    size_bytes: u64,
    ram_gb: Option<f64>,
    license: Option<String>,
    best_for: Option<String>,
    path: Option<PathBuf>,
    on_disk: bool,
    default: bool,
}

pub async fn run(global: &Global, cmd: ModelsCommand) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let default: Option<PathBuf> = ctx.store.get_setting(keys::DEFAULT_MODEL).await?;
    match cmd {
        ModelsCommand::List { json } => {
            let dir = ctx.data.models_dir();
            let mut rows = Vec::new();
            let imported = ctx.store.list_models().await?;
            for e in catalog()? {
                let path = e.local_path(&dir);
                let on_disk = path.is_file();
                rows.push(Listing {
                    id: e.id.clone(),
                    name: e.name.clone(),
                    tier: format!("{:?}", e.tier).to_lowercase(),
                    params: e.params.clone(),
                    quantization: e.quantization.clone(),
                    size_bytes: e.size_bytes,
                    ram_gb: Some(e.ram_gb),
                    license: Some(e.license.clone()),
                    best_for: Some(e.best_for.clone()),
                    default: default.as_ref() == Some(&path),
                    path: on_disk.then_some(path),
                    on_disk,
                });
            }
            for m in imported {
                let path = m.path();
                if rows.iter().any(|r| r.path.as_ref() == Some(&path)) {
                    continue;
                }
                rows.push(Listing {
                    id: path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    name: m.name.clone(),
                    tier: "imported".into(),
                    params: human_params(m.parameters as u64),
                    quantization: m.quantization.clone(),
                    size_bytes: m.size_bytes as u64,
                    ram_gb: None,
                    license: None,
                    best_for: None,
                    on_disk: path.is_file(),
                    default: default.as_ref() == Some(&path),
                    path: Some(path),
                });
            }
            if json {
                println!("{}", serde_json::to_string(&rows)?);
            } else {
                println!(
                    "  {:<34} {:<10} {:>6} {:<7} {:>8}  STATUS",
                    "MODEL", "TIER", "PARAMS", "QUANT", "SIZE"
                );
                for r in &rows {
                    let status = if r.on_disk { "on disk" } else { "not downloaded" };
                    println!(
                        "{:<2}{:<34} {:<10} {:>6} {:<7} {:>8}  {status}",
                        if r.default { "*" } else { "" },
                        r.name,
                        r.tier,
                        r.params,
                        r.quantization,
                        human_bytes(r.size_bytes)
                    );
                }
                if default.is_none() {
                    eprintln!("no default model set: `bantam models import PATH --default`");
                }
            }
        }
        ModelsCommand::Import {
            path,
            default: make_default,
        } => {
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            let info = inspect_model(&path).await?;
            let model = ctx.store.upsert_model(&path, &info).await?;
            eprintln!(
                "imported {} ({}, {}, {} parameters, {})",
                model.name,
                info.architecture,
                info.quantization,
                human_params(info.parameters),
                human_bytes(info.file_size)
            );
            if !info.has_chat_template {
                eprintln!("note: it has no chat template; chats need --chat-template NAME");
            }
            if make_default {
                ctx.store.set_setting(keys::DEFAULT_MODEL, &path).await?;
                eprintln!("it is now the default model");
            }
            println!("{}", path.display());
        }
        ModelsCommand::Info { path, json } => {
            let info = bantam_core::gguf::GgufHeader::read(&path)?.info();
            if json {
                println!("{}", serde_json::to_string(&info)?);
            } else {
                println!("file           {}", info.path.display());
                println!("name           {}", info.name.as_deref().unwrap_or("-"));
                println!("architecture   {}", info.architecture);
                println!("parameters     {} ({})", human_params(info.parameters), info.parameters);
                println!("quantization   {}", info.quantization);
                println!(
                    "context length {}",
                    info.context_length.map_or("-".into(), |c| c.to_string())
                );
                println!("layers         {}", info.layers.map_or("-".into(), |c| c.to_string()));
                println!("chat template  {}", if info.has_chat_template { "yes" } else { "no" });
                println!(
                    "file size      {} ({} bytes)",
                    human_bytes(info.file_size),
                    info.file_size
                );
                println!("gguf version   {}", info.gguf_version);
            }
        }
        ModelsCommand::Default { path: None } => match default {
            Some(p) => println!("{}", p.display()),
            None => {
                eprintln!("no default model set");
                return Ok(1);
            }
        },
        ModelsCommand::Default { path: Some(path) } => {
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            let info = inspect_model(&path).await?;
            ctx.store.upsert_model(&path, &info).await?;
            ctx.store.set_setting(keys::DEFAULT_MODEL, &path).await?;
            eprintln!("default model: {}", path.display());
        }
    }
    Ok(0)
}

fn human_bytes(n: u64) -> String {
    match n {
        0..=999_999 => format!("{} kB", n / 1000),
        1_000_000..=999_999_999 => format!("{} MB", n / 1_000_000),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}
