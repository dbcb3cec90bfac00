//! `bantam eval documents LABELS.jsonl`: document metadata as the Documents view shows it
//! (the file's own title, authors and language where it has them, the model's extraction
//! for the rest), on a fresh store, against what a person says the document is: title,
//! type and language exact, and the labeled authors found.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use bantam_core::tasks::documents::{normalized, DocumentOptions, DocumentService};
use bantam_core::{Engine, Store};
use serde::{Deserialize, Serialize};

use crate::Setup;

/// What a person says a document is (one line of the labels file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocLabel {
    pub file: String,
    /// Every title a reader would accept (a chapter's with and without its number).
    pub titles: Vec<String>,
    pub document_type: String,
    /// ISO 639-1.
    pub language: String,
    /// Authors the document names (only labeled where it names them).
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub split: Option<String>,
}

pub struct Options {
    pub labels: PathBuf,
    pub doc_dirs: Vec<PathBuf>,
    pub split: Option<String>,
    pub limit: Option<usize>,
    pub json: bool,
}

/// One document's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct DocResult {
    pub file: String,
    pub title: String,
    pub title_ok: bool,
    /// The title came from the file (PDF info, DOCX core properties, HTML `<title>`).
    pub title_from_file: bool,
    pub document_type: String,
    pub type_ok: bool,
    pub language: String,
    pub language_ok: bool,
    pub language_from_file: bool,
    /// `None` when no authors are labeled.
    pub authors_ok: Option<bool>,
    pub authors: Vec<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocReport {
    pub documents: usize,
    pub failed: usize,
    pub title_accuracy: f64,
    pub type_accuracy: f64,
    pub language_accuracy: f64,
    /// Over the documents with labeled authors.
    pub authors_accuracy: f64,
    pub authors_labeled: usize,
    pub titles_from_file: usize,
    pub languages_from_file: usize,
    pub results: Vec<DocResult>,
}

pub fn score(results: Vec<DocResult>) -> DocReport {
    let n = results.len().max(1) as f64;
    let share = |f: fn(&DocResult) -> bool| results.iter().filter(|r| f(r)).count() as f64 / n;
    let labeled: Vec<bool> = results.iter().filter_map(|r| r.authors_ok).collect();
    DocReport {
        documents: results.len(),
        failed: results.iter().filter(|r| r.error.is_some()).count(),
        title_accuracy: share(|r| r.title_ok),
        type_accuracy: share(|r| r.type_ok),
        language_accuracy: share(|r| r.language_ok),
        authors_accuracy: labeled.iter().filter(|ok| **ok).count() as f64 / labeled.len().max(1) as f64,
        authors_labeled: labeled.len(),
        titles_from_file: results.iter().filter(|r| r.title_from_file).count(),
        languages_from_file: results.iter().filter(|r| r.language_from_file).count(),
        results,
    }
}

pub async fn run(setup: &Setup, o: &Options) -> Result<DocReport> {
    let (labels, dirs): (Vec<DocLabel>, _) = super::read_labels(&o.labels, &o.doc_dirs)?;
    let labels: Vec<DocLabel> = labels
        .into_iter()
        .filter(|l| o.split.as_deref().is_none_or(|s| l.split.as_deref() == Some(s)))
        .collect();
    let labels = super::spread(labels, o.limit);
    if labels.is_empty() {
        bail!("no labels to evaluate (check --split)");
    }
    let mut paths = Vec::new();
    for l in &labels {
        match dirs.iter().map(|d| d.join(&l.file)).find(|p| p.is_file()) {
            Some(p) => paths.push(p),
            None => bail!("{} not found in {dirs:?}", l.file),
        }
    }
    let engine = Engine::start(setup.config(2)).await?;
    let scratch = tempfile::tempdir()?;
    let store = Store::open(&scratch.path().join("eval.sqlite3")).await?;
    let service = DocumentService::new(engine, store, DocumentOptions::default());
    let started = Instant::now();
    // Two documents at once: the engine batches their extractions.
    let mut running = tokio::task::JoinSet::new();
    let mut results = Vec::new();
    let mut todo = labels.into_iter().zip(paths).collect::<Vec<_>>().into_iter();
    let total = todo.len();
    let mut progress = crate::progress::Counter::new("documents", total);
    loop {
        while running.len() < 2 {
            let Some((label, path)) = todo.next() else { break };
            let service = service.clone();
            running.spawn(async move { judge(&service, label, &path).await });
        }
        let Some(done) = running.join_next().await else { break };
        results.push(done?);
        progress.set(results.len());
    }
    drop(progress);
    let seconds = started.elapsed().as_secs_f64();
    results.sort_by(|a, b| a.file.cmp(&b.file));
    let report = score(results);
    if o.json {
        println!(
            "{}",
            serde_json::json!({"report": report, "model": setup.model, "split": o.split, "seconds": seconds})
        );
    } else {
        print_table(&report, seconds);
    }
    Ok(report)
}

async fn judge(service: &DocumentService, label: DocLabel, path: &Path) -> DocResult {
    let failed = |e: String| DocResult {
        file: label.file.clone(),
        title: String::new(),
        title_ok: false,
        title_from_file: false,
        document_type: String::new(),
        type_ok: false,
        language: String::new(),
        language_ok: false,
        language_from_file: false,
        authors_ok: (!label.authors.is_empty()).then_some(false),
        authors: Vec::new(),
        error: Some(e),
    };
    let doc = match service.ingest(path).await {
        Ok(d) => d,
        Err(e) => return failed(e.to_string()),
    };
    let m = match service.metadata(&doc, true).await {
        Ok(m) => m,
        Err(e) => return failed(e.to_string()),
    };
    let hints = doc.document.hints();
    let x = &m.extracted;
    let title = normalized(&x.title);
    let found = normalized(&x.authors.join(" "));
    let document_type = serde_json::to_value(x.document_type)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    DocResult {
        title_ok: label.titles.iter().any(|t| normalized(t) == title),
        title_from_file: hints.title.is_some(),
        type_ok: document_type == label.document_type,
        document_type,
        language_ok: x.language == label.language,
        language_from_file: hints.language.is_some(),
        authors_ok: (!label.authors.is_empty()).then(|| label.authors.iter().all(|a| found.contains(&normalized(a)))),
        title: x.title.clone(),
        language: x.language.clone(),
        authors: x.authors.clone(),
        file: label.file,
        error: None,
    }
}

fn print_table(r: &DocReport, seconds: f64) {
    println!("{} documents in {seconds:.0} s ({} failed)", r.documents, r.failed);
    println!(
        "  title        {:>5.1}%   ({} from the file itself)",
        r.title_accuracy * 100.0,
        r.titles_from_file
    );
    println!("  type         {:>5.1}%", r.type_accuracy * 100.0);
    println!(
        "  language     {:>5.1}%   ({} from the file itself)",
        r.language_accuracy * 100.0,
        r.languages_from_file
    );
    println!(
        "  authors      {:>5.1}%   (of {} with authors labeled)",
        r.authors_accuracy * 100.0,
        r.authors_labeled
    );
    println!("\nmisses");
    for d in &r.results {
        let mut wrong = Vec::new();
        if !d.title_ok {
            wrong.push(format!("title {:?}", d.title));
        }
        if !d.type_ok {
            wrong.push(format!("type {}", d.document_type));
        }
        if !d.language_ok {
            wrong.push(format!("language {:?}", d.language));
        }
        if d.authors_ok == Some(false) {
            wrong.push(format!("authors {:?}", d.authors));
        }
        if let Some(e) = &d.error {
            wrong = vec![format!("failed: {e}")];
        }
        if !wrong.is_empty() {
            println!("  {:<36} {}", d.file, wrong.join("; "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(title_ok: bool, authors_ok: Option<bool>) -> DocResult {
        DocResult {
            file: "f".into(),
            title: "t".into(),
            title_ok,
            title_from_file: title_ok,
            document_type: "manual".into(),
            type_ok: true,
            language: "en".into(),
            language_ok: !title_ok,
            language_from_file: false,
            authors_ok,
            authors: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn shares_are_over_what_is_labeled() {
        let r = score(vec![
            result(true, None),
            result(false, Some(true)),
            result(false, Some(false)),
            result(true, None),
        ]);
        assert_eq!(
            (r.title_accuracy, r.type_accuracy, r.language_accuracy),
            (0.5, 1.0, 0.5)
        );
        assert_eq!((r.authors_accuracy, r.authors_labeled, r.titles_from_file), (0.5, 2, 2));
    }

    #[test]
    fn titles_match_without_case_or_punctuation() {
        assert_eq!(
            normalized("Chapter 1. Definitions  and overview"),
            "chapter 1 definitions and overview"
        );
        assert_eq!(
            normalized("Sorting HOW TO — Python 3.11.2"),
            normalized("sorting how to: python 3 11 2")
        );
    }
}
