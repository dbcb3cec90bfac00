//! `bantam eval ask`: answers with citations over real documents written by others. Each
//! label is a question and the words a right answer holds (any one of them, whole words,
//! case aside) and the document it is in — or no document, for a question nothing in the
//! documents answers, which must get "not found". Reports, per kind: answered right,
//! citing the right document, and said "not found"; and each question's closest cosine,
//! which is what the "nothing close" floor is chosen from (on dev).

use anyhow::Result;
use bantam_core::ask::{self, AskOptions, Outcome};
use bantam_core::store::SourceKind;
use serde::{Deserialize, Serialize};

use crate::Setup;

#[derive(Debug, Clone, Deserialize)]
struct AskLabel {
    id: String,
    query: String,
    /// The document that answers it; none: nothing does.
    doc: Option<String>,
    /// What a right answer says (any one).
    #[serde(default)]
    expect: Vec<String>,
    split: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Item {
    pub id: String,
    pub outcome: Outcome,
    pub right: bool,
    pub cited_right_doc: bool,
    pub closest_cosine: Option<f32>,
    pub answer: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub answerable: usize,
    /// Answered (citing a passage) with what the label expects.
    pub right: usize,
    /// Of those answered right, citing a passage of the right document.
    pub cited_right_doc: usize,
    /// Answerable questions said to be not found.
    pub missed: usize,
    pub unanswerable: usize,
    /// Unanswerable questions said to be not found (the rest got a guess).
    pub said_not_found: usize,
    pub items: Vec<Item>,
}

/// Whether `needle` is in `text` as whole words (both squeezed and lower-cased): "3" is
/// not in "1993", "2.2" is not in "6.2.2", "/var/tmp" is in "in /var/tmp.".
pub(super) fn has_words(text: &str, needle: &str) -> bool {
    let (text, needle) = (super::search::squeeze(text), super::search::squeeze(needle));
    // An edge is a character that is not part of a word or a number ("2.2" continues
    // into ".5" but not into ". ").
    let edge = |c: Option<char>, beyond: Option<char>| match c {
        None => true,
        Some(c) if c.is_alphanumeric() => false,
        Some('.' | ',') => !beyond.is_some_and(|b| b.is_ascii_digit()),
        Some(_) => true,
    };
    text.match_indices(&needle).any(|(at, _)| {
        let mut before = text[..at].chars().rev();
        let mut after = text[at + needle.len()..].chars();
        edge(before.next(), before.next()) && edge(after.next(), after.next())
    })
}

pub async fn run(setup: &Setup, o: &super::OverDocuments, min_cosine: Option<f32>, rerank: bool) -> Result<Report> {
    let (labels, dirs) = o.read(|l: &AskLabel| l.split.as_deref())?;
    let docs: Vec<&str> = labels.iter().filter_map(|l| l.doc.as_deref()).collect();
    let (engine, store, embedder, _scratch) =
        super::search::indexed_documents(setup, docs, &dirs, &o.embed_model).await?;
    let options = AskOptions {
        kinds: vec![SourceKind::Chunk],
        min_cosine: min_cosine.unwrap_or(ask::DEFAULT_MIN_COSINE),
        rerank,
        ..AskOptions::default()
    };
    let mut report = Report::default();
    let mut counter = crate::progress::Counter::new("questions asked", labels.len());
    for (i, l) in labels.iter().enumerate() {
        let answer = ask::ask(&store, &engine, Some(&embedder), &l.query, &options, |_| {}).await?;
        let closest = answer.sources.iter().filter_map(|s| s.hit.cosine).reduce(f32::max);
        let right = answer.found() && l.expect.iter().any(|e| has_words(&answer.text, e));
        let cited_right_doc = right && answer.citations().any(|s| Some(&s.hit.title) == l.doc.as_ref());
        match &l.doc {
            Some(_) => {
                report.answerable += 1;
                report.right += usize::from(right);
                report.cited_right_doc += usize::from(cited_right_doc);
                report.missed += usize::from(!answer.found());
            }
            None => {
                report.unanswerable += 1;
                report.said_not_found += usize::from(!answer.found());
            }
        }
        report.items.push(Item {
            id: l.id.clone(),
            outcome: answer.outcome,
            right,
            cited_right_doc,
            closest_cosine: closest,
            answer: answer.text.clone(),
        });
        counter.set(i + 1);
    }
    drop(counter);
    if o.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(report);
    }
    for item in &report.items {
        println!(
            "  {:<22} {:<14} {:<5} cos {:.2}  {}",
            item.id,
            format!("{:?}", item.outcome),
            if item.right { "right" } else { "" },
            item.closest_cosine.unwrap_or(0.0),
            item.answer.chars().take(90).collect::<String>()
        );
    }
    let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
    println!(
        "answerable {:>3}: right {:>3} ({:.0}%), citing the right document {:>3}, said not found {:>3}",
        report.answerable,
        report.right,
        pct(report.right, report.answerable),
        report.cited_right_doc,
        report.missed
    );
    println!(
        "unanswerable {:>3}: said not found {:>3} ({:.0}%)",
        report.unanswerable,
        report.said_not_found,
        pct(report.said_not_found, report.unanswerable)
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    #[test]
    fn expected_words_match_whole_words_only() {
        assert!(super::has_words("It was in /var/tmp.", "/var/tmp"));
        assert!(super::has_words("Created by Ian\n Murdock", "ian murdock"));
        assert!(!super::has_words("in 1993", "3"));
        assert!(super::has_words("three characters", "three"));
        assert!(!super::has_words("see 6.2.2", "2.2"));
        assert!(!super::has_words("release 2.25", "2.2"));
        assert!(super::has_words("potato was release 2.2.", "2.2"));
        assert!(super::has_words("1.2, then", "1.2"));
    }
}
