//! `bantam eval triage LABELS.jsonl`: triage labeled messages (on a fresh store, so
//! nothing cached or learned before counts) and print accuracy per field and the category
//! confusion matrix.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use bantam_core::mail::{parse, MailMessage};
use bantam_core::tasks::triage::{evaluate, Label, TriageOptions, TriageService};
use bantam_core::Store;
use clap::Subcommand;

use crate::context::Context;
use crate::Global;

#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// Triage accuracy against a labels file (JSON Lines: file, category, priority, needs_reply)
    Triage {
        labels: PathBuf,
        /// Where the labeled files are (repeatable; default: the labels file's folder)
        #[arg(long, value_name = "DIR")]
        mail_dir: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn find(file: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(file)).find(|p| p.is_file())
}

pub async fn run(global: &Global, cmd: EvalCommand) -> Result<u8> {
    let EvalCommand::Triage { labels, mail_dir, json } = cmd;
    let dirs = if mail_dir.is_empty() {
        vec![labels.parent().unwrap_or(Path::new(".")).to_path_buf()]
    } else {
        mail_dir
    };
    let text = std::fs::read_to_string(&labels).with_context(|| format!("reading {}", labels.display()))?;
    let mut labeled: Vec<(Label, MailMessage)> = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let label: Label = serde_json::from_str(line).with_context(|| format!("{}:{}", labels.display(), i + 1))?;
        let Some(path) = find(&label.file, &dirs) else {
            bail!("{} not found in {dirs:?}", label.file);
        };
        let message = parse(&std::fs::read(&path)?, &path.display().to_string())?;
        labeled.push((label, message));
    }
    let ctx = Context::open(global).await?;
    let engine = ctx.engine().await?;
    let scratch = tempfile::tempdir()?;
    let store = Store::open(&scratch.path().join("eval.sqlite3")).await?;
    let options = TriageOptions::default();
    let categories = options.categories.clone();
    let service = TriageService::new(engine, store, options);
    let mut records = Vec::new();
    let mut failed = 0;
    service
        .triage(labeled.iter().map(|(_, m)| m.clone()).collect(), false, |o| match o {
            Ok(t) => records.push(t),
            Err(_) => failed += 1,
        })
        .await?;
    let pairs: Vec<_> = labeled
        .iter()
        .filter_map(|(label, m)| {
            records
                .iter()
                .find(|t| t.key == m.key)
                .map(|t| (label.clone(), t.record.clone()))
        })
        .collect();
    let report = evaluate(&pairs, &categories);
    if json {
        println!(
            "{}",
            serde_json::json!({"report": report, "failed": failed, "model": ctx.model_path().await?})
        );
        return Ok(0);
    }
    println!(
        "{} messages ({} decided without the model, {failed} failed)",
        report.messages, report.decided_without_model
    );
    println!("  category     {:>5.1}%", report.category_accuracy * 100.0);
    println!("  priority     {:>5.1}%", report.priority_accuracy * 100.0);
    println!("  needs reply  {:>5.1}%", report.needs_reply_accuracy * 100.0);
    println!("\nconfusion (rows: expected, columns: predicted)");
    let short: Vec<String> = categories.iter().map(|c| c.chars().take(5).collect()).collect();
    println!(
        "  {:<13}{}",
        "",
        short.iter().map(|c| format!("{c:>6}")).collect::<String>()
    );
    for (i, row) in report.matrix.iter().enumerate() {
        if row.iter().sum::<usize>() == 0 {
            continue;
        }
        println!(
            "  {:<13}{}",
            categories[i],
            row.iter().map(|n| format!("{n:>6}")).collect::<String>()
        );
    }
    Ok(0)
}
