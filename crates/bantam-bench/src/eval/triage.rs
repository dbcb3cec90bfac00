//! `bantam eval triage LABELS.jsonl`: triage labeled messages (on a fresh store, so
//! nothing cached or learned before counts) and report accuracy per field and the
//! category confusion matrix.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use bantam_core::mail::{parse, MailMessage};
use bantam_core::tasks::triage::{DecidedBy, Priority4, TriageOptions, TriageRecord, TriageService};
use bantam_core::{Engine, Store};
use clap::Subcommand;
use serde::{Deserialize, Serialize};

use crate::Setup;

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

pub async fn run(setup: &Setup, cmd: EvalCommand) -> Result<u8> {
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
    let engine = Engine::start(setup.config(2)).await?;
    let scratch = tempfile::tempdir()?;
    let store = Store::open(&scratch.path().join("eval.sqlite3")).await?;
    let options = TriageOptions::default();
    let categories = options.categories.clone();
    let service = TriageService::with_options(engine, store, options);
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
            serde_json::json!({"report": report, "failed": failed, "model": setup.model})
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

/// What a person says a message is, for evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    pub file: String,
    pub category: String,
    pub priority: Priority4,
    pub needs_reply: bool,
}

/// Accuracy per field and the category confusion matrix (`matrix[expected][predicted]`).
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub messages: usize,
    pub category_accuracy: f64,
    pub priority_accuracy: f64,
    pub needs_reply_accuracy: f64,
    /// Records decided without the model (rules, learned, headers).
    pub decided_without_model: usize,
    pub categories: Vec<String>,
    pub matrix: Vec<Vec<usize>>,
}

/// Scores records against labels (pairs of one message each).
pub fn evaluate(pairs: &[(Label, TriageRecord)], categories: &[String]) -> EvalReport {
    let n = pairs.len().max(1) as f64;
    let share = |f: &dyn Fn(&(Label, TriageRecord)) -> bool| pairs.iter().filter(|p| f(p)).count() as f64 / n;
    let index = |c: &str| categories.iter().position(|x| x == c);
    let mut matrix = vec![vec![0; categories.len()]; categories.len()];
    for (label, record) in pairs {
        if let (Some(e), Some(p)) = (index(&label.category), index(&record.category)) {
            matrix[e][p] += 1;
        }
    }
    EvalReport {
        messages: pairs.len(),
        category_accuracy: share(&|(l, r)| l.category == r.category),
        priority_accuracy: share(&|(l, r)| l.priority == r.priority),
        needs_reply_accuracy: share(&|(l, r)| l.needs_reply == r.needs_reply),
        decided_without_model: pairs.iter().filter(|(_, r)| r.decided_by != DecidedBy::Model).count(),
        categories: categories.to_vec(),
        matrix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bantam_core::tasks::triage::route;

    fn record(category: &str, priority: Priority4, needs_reply: bool) -> TriageRecord {
        TriageRecord {
            category: category.into(),
            priority,
            needs_reply,
            action_items: Vec::new(),
            summary: "s".into(),
            route: route(category),
            reason: "r".into(),
            decided_by: DecidedBy::Model,
        }
    }

    fn label(category: &str, priority: Priority4, needs_reply: bool) -> Label {
        Label {
            file: "f".into(),
            category: category.into(),
            priority,
            needs_reply,
        }
    }

    #[test]
    fn evaluation_counts_each_field_and_fills_the_confusion_matrix() {
        let cats: Vec<String> = ["work", "spam", "personal"].iter().map(|s| s.to_string()).collect();
        let pairs = vec![
            (
                label("work", Priority4::High, true),
                record("work", Priority4::High, false),
            ),
            (
                label("spam", Priority4::Low, false),
                record("work", Priority4::Low, false),
            ),
            (
                label("spam", Priority4::Low, false),
                record("spam", Priority4::Normal, false),
            ),
            (
                label("personal", Priority4::Low, false),
                record("personal", Priority4::Low, false),
            ),
        ];
        let r = evaluate(&pairs, &cats);
        assert_eq!(r.messages, 4);
        assert!((r.category_accuracy - 0.75).abs() < 1e-9);
        assert!((r.priority_accuracy - 0.75).abs() < 1e-9);
        assert!((r.needs_reply_accuracy - 0.75).abs() < 1e-9);
        assert_eq!(r.matrix, vec![vec![1, 0, 0], vec![1, 1, 0], vec![0, 0, 1]]);
        assert_eq!(route("newsletter"), "Triage/Newsletter");
    }
}
