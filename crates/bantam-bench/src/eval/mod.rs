//! `bantam eval`: quality on labeled data made by others, on the model given. Each task
//! prints a table (or one JSON object with `--json`) and can be held to a floor, so a
//! run in CI fails when quality drops.

mod ask;
mod documents;
mod router;
mod score;
mod search;
mod triage;
mod whole;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};

pub use documents::{DocLabel, DocReport, DocResult};
pub use router::read_items as read_router_items;
pub use score::{score, ClassScore, EvalReport, Label, PartScore};

use crate::Setup;

#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// Triage against a labels file (JSON Lines: file, category, priority, needs_reply, split)
    Triage {
        labels: PathBuf,
        /// Where the labeled files are (repeatable; default: the labels file's folder)
        #[arg(long, value_name = "DIR")]
        mail_dir: Vec<PathBuf>,
        /// Only the labels of this split (`dev`: tune on these; `test`: held out)
        #[arg(long)]
        split: Option<String>,
        /// At most this many messages, spread over the set (a quick slice)
        #[arg(long)]
        limit: Option<usize>,
        /// First file this split's labels as the user's corrections (what the sender
        /// memory and the filter learn from), as a user who corrected that much would have
        #[arg(long, value_name = "SPLIT")]
        learn: Option<String>,
        /// Only the cheap signals (rules, corrections, headers, filter), no model: scores
        /// what they decide and counts what they leave open
        #[arg(long)]
        without_model: bool,
        /// Exit with status 1 when category accuracy is below this (0–1)
        #[arg(long, value_name = "ACCURACY")]
        min_category: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// Document metadata against a labels file (JSON Lines: file, titles, document_type,
    /// language, authors, split)
    Documents {
        labels: PathBuf,
        /// Where the labeled documents are (repeatable; default: the labels file's folder)
        #[arg(long, value_name = "DIR")]
        doc_dir: Vec<PathBuf>,
        #[arg(long)]
        split: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
        /// Exit with status 1 when title, type or language accuracy is below this (0–1)
        #[arg(long, value_name = "ACCURACY")]
        min_accuracy: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// Search over documents (JSON Lines: id, query, kind lookup|paraphrase, doc, answer —
    /// a phrase of the passage that answers —, split): recall@5 and MRR@10 for words,
    /// meaning and both fused (and fused then reranked by the model, with --rerank)
    Search {
        #[command(flatten)]
        docs: OverDocuments,
        /// Also rerank the fused top 10 by the model's judgement of each passage
        #[arg(long)]
        rerank: bool,
    },
    /// Answers with citations over documents (JSON Lines: id, query, doc — none for a
    /// question nothing answers —, expect — what a right answer says —, split): answered
    /// right, citing the right document, and "not found" where nothing answers
    Ask {
        #[command(flatten)]
        docs: OverDocuments,
        /// The cosine below which nothing is close (default: Bantam's)
        #[arg(long)]
        min_cosine: Option<f32>,
        /// Rerank the candidates by the model's judgement before answering
        #[arg(long)]
        rerank: bool,
    },
    /// Questions about a whole document (JSON Lines: id, query, doc, items — what a complete
    /// answer names —, count — for "how many" —, split), answered by reading every part
    /// and by the top passages, side by side
    Whole(OverDocuments),
    /// The router: both tiers answer every item (JSON Lines: id, question, answer,
    /// choices), then quality against the share escalated, next to always-small,
    /// always-big, random and the oracle; and the decision's latency
    Router {
        data: PathBuf,
        /// The small tier (default: the model in use)
        #[arg(long, value_name = "GGUF")]
        small: Option<PathBuf>,
        /// The bigger tier
        #[arg(long, value_name = "GGUF")]
        big: PathBuf,
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        json: bool,
    },
}

/// What the evaluations over documents share.
#[derive(clap::Args, Debug)]
pub struct OverDocuments {
    pub labels: PathBuf,
    /// Where the labeled documents are (repeatable; default: the labels file's folder)
    #[arg(long = "doc-dir", value_name = "DIR")]
    pub doc_dirs: Vec<PathBuf>,
    /// The embedding model (a GGUF with pooling)
    #[arg(long, value_name = "GGUF")]
    pub embed_model: PathBuf,
    /// Only the labels of this split
    #[arg(long)]
    pub split: Option<String>,
    #[arg(long)]
    pub json: bool,
}

impl OverDocuments {
    /// The labels of the chosen split (`split_of` reads a label's), and the folders their
    /// documents are looked up in.
    fn read<T: serde::de::DeserializeOwned>(
        &self,
        split_of: impl Fn(&T) -> Option<&str>,
    ) -> Result<(Vec<T>, Vec<PathBuf>)> {
        let (labels, dirs): (Vec<T>, _) = read_labels(&self.labels, &self.doc_dirs)?;
        let labels: Vec<T> = labels
            .into_iter()
            .filter(|l| self.split.as_deref().is_none_or(|s| split_of(l) == Some(s)))
            .collect();
        if labels.is_empty() {
            anyhow::bail!("no labels to evaluate (check --split)");
        }
        Ok((labels, dirs))
    }
}

/// One labels file (JSON Lines), and the folders its files are looked up in (those given,
/// else the labels file's own folder).
fn read_labels<T: serde::de::DeserializeOwned>(path: &Path, dirs: &[PathBuf]) -> Result<(Vec<T>, Vec<PathBuf>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        labels.push(serde_json::from_str(line).with_context(|| format!("{}:{}", path.display(), i + 1))?);
    }
    let dirs = if dirs.is_empty() {
        vec![path.parent().unwrap_or(Path::new(".")).to_path_buf()]
    } else {
        dirs.to_vec()
    };
    Ok((labels, dirs))
}

/// At most `limit` items, spread evenly over the list (a slice that keeps its mix).
fn spread<T: Clone>(items: Vec<T>, limit: Option<usize>) -> Vec<T> {
    match limit {
        Some(n) if n > 0 && n < items.len() => {
            let step = items.len() as f64 / n as f64;
            (0..n).map(|i| items[(i as f64 * step) as usize].clone()).collect()
        }
        _ => items,
    }
}

pub async fn run(setup: &Setup, cmd: EvalCommand) -> Result<u8> {
    match cmd {
        EvalCommand::Search { docs, rerank } => {
            search::run(setup, &docs, rerank).await?;
            Ok(0)
        }
        EvalCommand::Ask {
            docs,
            min_cosine,
            rerank,
        } => {
            ask::run(setup, &docs, min_cosine, rerank).await?;
            Ok(0)
        }
        EvalCommand::Whole(docs) => {
            whole::run(setup, &docs).await?;
            Ok(0)
        }
        EvalCommand::Router {
            data,
            small,
            big,
            limit,
            json,
        } => {
            let options = router::Options {
                data,
                small: small.unwrap_or_else(|| setup.model.clone()),
                big,
                limit,
                json,
            };
            router::run(setup, &options).await?;
            Ok(0)
        }
        EvalCommand::Triage {
            labels,
            mail_dir,
            split,
            limit,
            learn,
            without_model,
            min_category,
            json,
        } => {
            let options = triage::Options {
                labels,
                mail_dirs: mail_dir,
                split,
                limit,
                learn,
                without_model,
                json,
            };
            let report = triage::run(setup, &options).await?;
            match min_category {
                Some(floor) if report.category_accuracy < floor => {
                    eprintln!(
                        "category accuracy {:.3} is below the floor {floor:.3}",
                        report.category_accuracy
                    );
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
        EvalCommand::Documents {
            labels,
            doc_dir,
            split,
            limit,
            min_accuracy,
            json,
        } => {
            let options = documents::Options {
                labels,
                doc_dirs: doc_dir,
                split,
                limit,
                json,
            };
            let r = documents::run(setup, &options).await?;
            let worst = r.title_accuracy.min(r.type_accuracy).min(r.language_accuracy);
            match min_accuracy {
                Some(floor) if worst < floor => {
                    eprintln!("the weakest of title, type and language is {worst:.3}, below the floor {floor:.3}");
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }
}
