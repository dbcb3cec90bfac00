//! `bantam eval`: quality on labeled data made by others, on the model given. Each task
//! prints a table (or one JSON object with `--json`) and can be held to a floor, so a
//! run in CI fails when quality drops.

mod score;
mod triage;

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

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
        /// Exit with status 1 when category accuracy is below this (0–1)
        #[arg(long, value_name = "ACCURACY")]
        min_category: Option<f64>,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(setup: &Setup, cmd: EvalCommand) -> Result<u8> {
    match cmd {
        EvalCommand::Triage {
            labels,
            mail_dir,
            split,
            limit,
            min_category,
            json,
        } => {
            let options = triage::Options {
                labels,
                mail_dirs: mail_dir,
                split,
                limit,
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
    }
}
