//! `bantam eval triage LABELS.jsonl`: triage labeled messages through the whole pipeline
//! (cheap signals, then the model) on a fresh store, so nothing cached or learned before
//! counts, and report how it did. `--learn SPLIT` first files another split's labels as
//! the user's corrections, to measure what learning from them adds.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use bantam_core::mail::{parse, MailMessage};
use bantam_core::tasks::triage::{TriageBook, TriageOptions, TriageService};
use bantam_core::{Engine, Store};

use super::score::{score, EvalReport, Label};
use crate::Setup;

pub struct Options {
    pub labels: PathBuf,
    pub mail_dirs: Vec<PathBuf>,
    pub split: Option<String>,
    pub limit: Option<usize>,
    pub learn: Option<String>,
    pub without_model: bool,
    pub json: bool,
}

fn find(file: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(file)).find(|p| p.is_file())
}

/// The labels to run: those of the split, then at most `limit`, spread evenly.
fn select(labels: Vec<Label>, split: Option<&str>, limit: Option<usize>) -> Vec<Label> {
    let chosen: Vec<Label> = labels
        .into_iter()
        .filter(|l| split.is_none_or(|s| l.split.as_deref() == Some(s)))
        .collect();
    super::spread(chosen, limit)
}

pub async fn run(setup: &Setup, o: &Options) -> Result<EvalReport> {
    let (all, dirs): (Vec<Label>, _) = super::read_labels(&o.labels, &o.mail_dirs)?;
    if o.learn.is_some() && o.learn == o.split {
        bail!("--learn and --split name the same split: it would be judged on what it learned");
    }
    let learn: Vec<Label> = match &o.learn {
        Some(s) => all.iter().filter(|l| l.split.as_deref() == Some(s)).cloned().collect(),
        None => Vec::new(),
    };
    let labeled = read_messages(select(all, o.split.as_deref(), o.limit), &dirs)?;
    if labeled.is_empty() {
        bail!("no labels to evaluate (check --split)");
    }
    let scratch = tempfile::tempdir()?;
    let store = Store::open(&scratch.path().join("eval.sqlite3")).await?;
    let options = TriageOptions::default();
    let categories = options.categories.clone();
    let book = TriageBook::new(store.clone(), options.clone());
    let learned = read_messages(learn, &dirs)?;
    for (label, m) in &learned {
        let id = store.upsert_mail(m).await?;
        book.correct(id, Some(&label.category), Some(label.priority)).await?;
    }
    let mut records = Vec::new();
    let mut failed = 0;
    let mut undecided = 0;
    let started = Instant::now();
    let total = labeled.len();
    if o.without_model {
        for (_, m) in &labeled {
            store.upsert_mail(m).await?;
            match book.decide_without_model(m).await? {
                Some(record) => records.push((m.key.clone(), record)),
                None => undecided += 1,
            }
        }
    } else {
        let engine = Engine::start(setup.config(2)).await?;
        let mut progress = crate::progress::Counter::new("triaged", total);
        let service = TriageService::with_options(engine, store, options);
        service
            .triage(labeled.iter().map(|(_, m)| m.clone()).collect(), false, |outcome| {
                match outcome {
                    Ok(t) => records.push((t.key, t.record)),
                    Err(_) => failed += 1,
                }
                progress.set(records.len() + failed);
            })
            .await?;
        drop(progress);
    }
    let seconds = started.elapsed().as_secs_f64();
    let pairs: Vec<_> = labeled
        .iter()
        .filter_map(|(label, m)| {
            records
                .iter()
                .find(|(key, _)| *key == m.key)
                .map(|(_, r)| (label.clone(), r.clone()))
        })
        .collect();
    let report = score(&pairs, &categories);
    if o.json {
        let misses: Vec<_> = pairs
            .iter()
            .filter(|(l, r)| l.category != r.category)
            .map(|(l, r)| serde_json::json!({"file": l.file, "expected": l.category, "got": r.category, "decided_by": r.decided_by, "reason": r.reason}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"report": report, "failed": failed, "model": setup.model,
                "split": o.split, "learned": learned.len(), "undecided": undecided,
                "seconds": seconds, "misses": misses})
        );
    } else {
        print_table(&report, failed, seconds);
        if !learned.is_empty() {
            println!("\nlearned first from {} corrections", learned.len());
        }
        if o.without_model {
            println!("{undecided} of {total} left to the model (not scored: --without-model)");
        }
    }
    Ok(report)
}

/// Each label with its parsed message.
fn read_messages(labels: Vec<Label>, dirs: &[PathBuf]) -> Result<Vec<(Label, MailMessage)>> {
    let mut out = Vec::new();
    for label in labels {
        let Some(path) = find(&label.file, dirs) else {
            bail!("{} not found in {dirs:?}", label.file);
        };
        let message = parse(&std::fs::read(&path)?, &path.display().to_string())?;
        out.push((label, message));
    }
    Ok(out)
}

fn print_table(report: &EvalReport, failed: usize, seconds: f64) {
    println!("{} messages in {seconds:.0} s ({failed} failed)", report.messages);
    println!("  category     {:>5.1}%", report.category_accuracy * 100.0);
    println!("  priority     {:>5.1}%", report.priority_accuracy * 100.0);
    println!("  needs reply  {:>5.1}%", report.needs_reply_accuracy * 100.0);
    println!(
        "\n  {:<15}{:>8}{:>8}{:>10}{:>8}{:>6}",
        "class", "labeled", "called", "precision", "recall", "F1"
    );
    for c in report.classes.iter().filter(|c| c.support + c.predicted > 0) {
        println!(
            "  {:<15}{:>8}{:>8}{:>10.2}{:>8.2}{:>6.2}",
            c.class, c.support, c.predicted, c.precision, c.recall, c.f1
        );
    }
    println!("\n  decided by     messages  category right");
    for p in &report.parts {
        println!(
            "  {:<15}{:>8}{:>9} ({:.0}%)",
            format!("{:?}", p.decided_by).to_lowercase(),
            p.messages,
            p.category_correct,
            p.category_correct as f64 * 100.0 / p.messages.max(1) as f64
        );
    }
    println!("\nconfusion (rows: expected, columns: predicted)");
    let short: Vec<String> = report.categories.iter().map(|c| c.chars().take(5).collect()).collect();
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
            report.categories[i],
            row.iter().map(|n| format!("{n:>6}")).collect::<String>()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bantam_core::tasks::triage::Priority4;

    #[test]
    fn a_slice_is_spread_over_the_split() {
        let labels: Vec<Label> = (0..10)
            .map(|i| Label {
                file: format!("{i}"),
                category: "work".into(),
                priority: Priority4::Normal,
                needs_reply: false,
                split: Some(if i % 2 == 0 { "dev" } else { "test" }.into()),
            })
            .collect();
        let test: Vec<String> = select(labels.clone(), Some("test"), None)
            .into_iter()
            .map(|l| l.file)
            .collect();
        assert_eq!(test, ["1", "3", "5", "7", "9"]);
        let slice: Vec<String> = select(labels.clone(), None, Some(3))
            .into_iter()
            .map(|l| l.file)
            .collect();
        assert_eq!(slice, ["0", "3", "6"]);
        assert_eq!(select(labels, Some("none"), None).len(), 0);
    }
}
