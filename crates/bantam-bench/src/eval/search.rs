//! `bantam eval search`: retrieval over real documents written by others. Each label is a
//! question and a passage that answers it (a phrase of the document, whitespace aside);
//! a result is right when its chunk contains the phrase, so the labels hold whatever the
//! chunk size. Reports recall@5 and MRR@10 for words alone (BM25), meaning alone (the
//! embedding model), the two fused, and (`--rerank`) the fused top 10 reordered by the
//! chat model's judgement of each passage (`bantam_core::rerank`), per kind of question:
//! lookups share words with the passage, paraphrases do not.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use bantam_core::ask;
use bantam_core::embed::{EmbedConfig, Embedder};
use bantam_core::search::{self, SearchOptions};
use bantam_core::store::SourceKind;
use bantam_core::tasks::documents::{DocumentOptions, DocumentService};
use bantam_core::{Engine, Store};
use serde::{Deserialize, Serialize};

use crate::Setup;

#[derive(Debug, Clone, Deserialize)]
struct SearchLabel {
    id: String,
    query: String,
    /// `lookup` or `paraphrase`.
    kind: String,
    /// The document (file name) the answer is in.
    doc: String,
    /// A phrase of the passage that answers.
    answer: String,
    split: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MethodScore {
    pub recall_at_5: f64,
    pub mrr_at_10: f64,
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub kind: String,
    pub queries: usize,
    pub words: MethodScore,
    pub meaning: MethodScore,
    pub fused: MethodScore,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reranked: Option<MethodScore>,
}

/// A scratch store with `docs` (file names, looked up in `dirs`) read in by the engine
/// and embedded with `embed_model`, with progress; the scratch folder lives as long as
/// the returned guard.
pub(super) async fn indexed_documents(
    setup: &Setup,
    mut docs: Vec<&str>,
    dirs: &[PathBuf],
    embed_model: &Path,
) -> Result<(Engine, Store, Embedder, tempfile::TempDir)> {
    docs.sort_unstable();
    docs.dedup();
    let engine = Engine::start(setup.config(1)).await?;
    let scratch = tempfile::tempdir()?;
    let store = Store::open(&scratch.path().join("eval.sqlite3")).await?;
    let service = DocumentService::new(engine.clone(), store.clone(), DocumentOptions::default());
    for doc in docs {
        let Some(path) = dirs.iter().map(|d| d.join(doc)).find(|p: &PathBuf| p.is_file()) else {
            bail!("{doc} not found in {dirs:?}");
        };
        service.ingest(Path::new(&path)).await?;
    }
    let embedder = Embedder::start(EmbedConfig {
        threads: setup.threads,
        ..EmbedConfig::new(embed_model)
    })
    .await?;
    let mut progress: Option<crate::progress::Counter> = None;
    search::index(&store, &embedder, |done, total| {
        progress
            .get_or_insert_with(|| crate::progress::Counter::new("chunks embedded", total))
            .set(done);
    })
    .await?;
    Ok((engine, store, embedder, scratch))
}

pub(super) fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// How a label's question is searched.
#[derive(Clone, Copy)]
enum Method<'a> {
    Words,
    Meaning(&'a Embedder),
    Fused(&'a Embedder),
    Reranked(&'a Embedder, &'a Engine),
}

/// The rank (1-based) of the first right result in the top 10, if any.
async fn rank(store: &Store, method: Method<'_>, label: &SearchLabel) -> Result<Option<usize>> {
    let options = SearchOptions {
        kinds: vec![SourceKind::Chunk],
        limit: 10,
    };
    let hits = match method {
        Method::Words => search::search(store, None, &label.query, &options).await?,
        Method::Meaning(e) => search::search_by_meaning(store, Some(e), &label.query, &options).await?,
        Method::Fused(e) => search::search(store, Some(e), &label.query, &options).await?,
        Method::Reranked(e, judge) => ask::candidates(store, Some(e), Some(judge), &label.query, &options.kinds, 10)
            .await?
            .into_iter()
            .map(|(hit, _)| hit)
            .collect(),
    };
    let answer = squeeze(&label.answer);
    for (i, h) in hits.iter().enumerate() {
        let Some(source) = store.hit_source(h.kind, h.source_id, h.part).await? else {
            continue;
        };
        if source.title == label.doc && squeeze(&source.text).contains(&answer) {
            return Ok(Some(i + 1));
        }
    }
    Ok(None)
}

fn score(ranks: &[Option<usize>]) -> MethodScore {
    let n = ranks.len().max(1) as f64;
    MethodScore {
        recall_at_5: ranks.iter().filter(|r| r.is_some_and(|r| r <= 5)).count() as f64 / n,
        mrr_at_10: ranks.iter().map(|r| r.map_or(0.0, |r| 1.0 / r as f64)).sum::<f64>() / n,
    }
}

pub async fn run(setup: &Setup, o: &super::OverDocuments, rerank: bool) -> Result<Vec<Row>> {
    let (labels, dirs) = o.read(|l: &SearchLabel| l.split.as_deref())?;
    let docs: Vec<&str> = labels.iter().map(|l| l.doc.as_str()).collect();
    let (engine, store, embedder, _scratch) = indexed_documents(setup, docs, &dirs, &o.embed_model).await?;
    let mut rows = Vec::new();
    let mut all_reranked = Vec::new();
    for kind in ["lookup", "paraphrase", "all"] {
        let chosen: Vec<&SearchLabel> = labels.iter().filter(|l| kind == "all" || l.kind == kind).collect();
        if chosen.is_empty() {
            continue;
        }
        let (mut words, mut meaning, mut fused, mut reranked) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for l in &chosen {
            words.push(rank(&store, Method::Words, l).await?);
            meaning.push(rank(&store, Method::Meaning(&embedder), l).await?);
            let r = rank(&store, Method::Fused(&embedder), l).await?;
            if kind == "all" && !o.json && r.is_none_or(|r| r > 5) {
                eprintln!("  missed by fused search: {} {:?}", l.id, l.query);
            }
            fused.push(r);
            // The lookups' and paraphrases' reranked ranks make "all": asked once each.
            if rerank && kind != "all" {
                let r = rank(&store, Method::Reranked(&embedder, &engine), l).await?;
                if !o.json && r.is_none_or(|r| r > 5) {
                    eprintln!("  missed after reranking: {} {:?}", l.id, l.query);
                }
                reranked.push(r);
            }
        }
        if rerank && kind == "all" {
            reranked = all_reranked.clone();
        }
        all_reranked.extend(reranked.iter().copied());
        rows.push(Row {
            kind: kind.to_string(),
            queries: chosen.len(),
            words: score(&words),
            meaning: score(&meaning),
            fused: score(&fused),
            reranked: rerank.then(|| score(&reranked)),
        });
    }
    if o.json {
        println!(
            "{}",
            serde_json::json!({"rows": rows, "embed_model": o.embed_model, "split": o.split})
        );
    } else {
        println!("questions     n   recall@5: words meaning fused reranked    MRR@10: words meaning fused reranked");
        let or_dash = |s: &Option<MethodScore>, f: fn(&MethodScore) -> f64| {
            s.as_ref().map_or("   -".into(), |s| format!("{:.2}", f(s)))
        };
        for r in &rows {
            println!(
                "{:<11} {:>3}             {:.2}  {:.2}    {:.2}  {:>7}             {:.2}  {:.2}    {:.2}  {:>7}",
                r.kind,
                r.queries,
                r.words.recall_at_5,
                r.meaning.recall_at_5,
                r.fused.recall_at_5,
                or_dash(&r.reranked, |s| s.recall_at_5),
                r.words.mrr_at_10,
                r.meaning.mrr_at_10,
                r.fused.mrr_at_10,
                or_dash(&r.reranked, |s| s.mrr_at_10)
            );
        }
    }
    Ok(rows)
}
