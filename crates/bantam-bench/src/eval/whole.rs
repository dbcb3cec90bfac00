//! `bantam eval whole`: questions about a whole document ("how many sections …", "list
//! all the flags …") over real documents written by others, answered both ways Bantam
//! can: reading every part of the document (`whole_document`) and the top passages
//! (`ask`). A label names the document, every item a complete answer names, and the count
//! when the question asks for one. An answer is right when it names at least
//! `MIN_RECALL` of the items and, for a count, states the right number.

use std::time::Instant;

use anyhow::{bail, Result};
use bantam_core::ask::{self, AskOptions};
use bantam_core::store::SourceKind;
use bantam_core::whole_document;
use serde::{Deserialize, Serialize};

use crate::Setup;

/// Share of a label's items an answer must name to count as complete.
const MIN_RECALL: f64 = 0.8;

#[derive(Debug, Clone, Deserialize)]
struct WholeLabel {
    id: String,
    query: String,
    doc: String,
    /// What a complete answer names (each matched as whole words, case aside).
    items: Vec<String>,
    /// The number a count question must state.
    count: Option<usize>,
    split: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct PathResult {
    pub right: bool,
    /// Share of the label's items the answer names.
    pub recall: f64,
    pub count_right: Option<bool>,
    pub seconds: f64,
    pub answer: String,
}

#[derive(Debug, Serialize)]
pub struct Item {
    pub id: String,
    /// The document the whole-document path chose read the label's document.
    pub right_document: bool,
    pub parts: usize,
    pub whole: PathResult,
    pub passages: PathResult,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub questions: usize,
    pub whole_right: usize,
    pub passages_right: usize,
    pub whole_recall: f64,
    pub passages_recall: f64,
    pub whole_seconds: f64,
    pub passages_seconds: f64,
    pub items: Vec<Item>,
}

fn score(label: &WholeLabel, answer: &str, seconds: f64) -> PathResult {
    let named = label.items.iter().filter(|i| super::ask::has_words(answer, i)).count();
    let recall = named as f64 / label.items.len().max(1) as f64;
    let count_right = label.count.map(|n| stated_count(answer) == Some(n));
    PathResult {
        right: recall >= MIN_RECALL && count_right != Some(false),
        recall,
        count_right,
        seconds,
        answer: answer.to_string(),
    }
}

/// The number an answer states: its first number ("26: 1; 2; …" states 26, whatever
/// numbers its list holds), thousands separators aside.
fn stated_count(answer: &str) -> Option<usize> {
    let start = answer.find(|c: char| c.is_ascii_digit())?;
    let digits: String = answer[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

pub async fn run(setup: &Setup, o: &super::OverDocuments) -> Result<Report> {
    let (labels, dirs) = o.read(|l: &WholeLabel| l.split.as_deref())?;
    let docs: Vec<&str> = labels.iter().map(|l| l.doc.as_str()).collect();
    let (engine, store, embedder, _scratch) =
        super::search::indexed_documents(setup, docs, &dirs, &o.embed_model).await?;
    let options = AskOptions {
        kinds: vec![SourceKind::Chunk],
        ..AskOptions::default()
    };
    let mut report = Report {
        questions: labels.len(),
        ..Report::default()
    };
    for l in &labels {
        eprintln!("{}: {}", l.id, l.query);
        let started = Instant::now();
        let Some(doc) = whole_document::document_for(&store, Some(&embedder), &l.query).await? else {
            bail!("{}: no document matches the question", l.id);
        };
        let mut progress: Option<crate::progress::Counter> = None;
        let whole = whole_document::answer(&store, &engine, doc, &l.query, |done, total| {
            progress
                .get_or_insert_with(|| crate::progress::Counter::new("parts read", total))
                .set(done);
        })
        .await?;
        drop(progress);
        let whole_result = score(l, &whole_document::as_message(&whole), started.elapsed().as_secs_f64());

        let started = Instant::now();
        let answer = ask::ask(&store, &engine, Some(&embedder), &l.query, &options, |_| {}).await?;
        let passages_result = score(l, &answer.text, started.elapsed().as_secs_f64());

        report.whole_right += usize::from(whole_result.right);
        report.passages_right += usize::from(passages_result.right);
        report.whole_recall += whole_result.recall / labels.len() as f64;
        report.passages_recall += passages_result.recall / labels.len() as f64;
        report.whole_seconds += whole_result.seconds;
        report.passages_seconds += passages_result.seconds;
        report.items.push(Item {
            id: l.id.clone(),
            right_document: whole.document == l.doc,
            parts: whole.parts,
            whole: whole_result,
            passages: passages_result,
        });
    }
    if o.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(report);
    }
    let line = |r: &PathResult| {
        format!(
            "{:<5} items {:>3.0}% {} {:>5.0} s",
            if r.right { "right" } else { "" },
            r.recall * 100.0,
            match r.count_right {
                Some(true) => "count ok ",
                Some(false) => "count off",
                None => "         ",
            },
            r.seconds
        )
    };
    println!(
        "  {:<24} {:>5}  {:<32}  {:<32}",
        "question", "parts", "whole document", "top passages"
    );
    for item in &report.items {
        println!(
            "  {:<24} {:>5}  {:<32}  {:<32}{}",
            item.id,
            item.parts,
            line(&item.whole),
            line(&item.passages),
            if item.right_document {
                ""
            } else {
                "  (read another document)"
            }
        );
    }
    let n = report.questions as f64;
    println!(
        "whole document: right {}/{} ({:.2}), items named {:.2}, {:.0} s in all",
        report.whole_right,
        report.questions,
        report.whole_right as f64 / n,
        report.whole_recall,
        report.whole_seconds
    );
    println!(
        "top passages:   right {}/{} ({:.2}), items named {:.2}, {:.0} s in all",
        report.passages_right,
        report.questions,
        report.passages_right as f64 / n,
        report.passages_recall,
        report.passages_seconds
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_count_is_the_first_number_stated() {
        assert_eq!(super::stated_count("26: 1; 2; 10. Versions"), Some(26));
        assert_eq!(super::stated_count("The licence has 10 sections."), Some(10));
        assert_eq!(super::stated_count("about 1,024 of them"), Some(1024));
        assert_eq!(super::stated_count("None found."), None);
    }
}
