//! Search across chats and documents: words (FTS5's BM25) and meaning (the embedding
//! model's vectors, exact cosine) fused by reciprocal rank fusion — each list's rank, not
//! its score, counts (`1 / (60 + rank)`), so BM25's unbounded scores and cosines need no
//! common scale, and a passage both lists rank well beats one only one of them likes
//! (Cormack et al., 2009; GPT4All's LocalDocs fuses the same way). Without an embedding
//! model it is words alone, and says so.

use std::collections::HashMap;

use serde::Serialize;

use crate::embed::{cosine, Embedder};
use crate::error::Result;
use crate::store::{SourceKind, Store, StoredVector};

/// RRF's constant: how much the first ranks outweigh the rest (60 in the paper).
const RRF_K: f64 = 60.0;
/// Candidates taken from each list before fusing.
const CANDIDATES: usize = 50;
/// Texts embedded per call while indexing.
const INDEX_BATCH: usize = 32;

/// What a search looks through.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub kinds: Vec<SourceKind>,
    pub limit: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            kinds: vec![SourceKind::Message, SourceKind::Chunk],
            limit: 10,
        }
    }
}

/// One result, best first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub kind: SourceKind,
    /// The message's id, or the chunk's document.
    pub source_id: i64,
    /// 0, or the chunk's index.
    pub part: i64,
    /// The conversation (a message) or the document (a chunk) it opens.
    pub parent_id: i64,
    /// The conversation's title or the document's name.
    pub title: String,
    /// A chunk's first page, when its document has pages.
    pub page: Option<i64>,
    /// The matched words in `[brackets]`, or the passage's start for a match by meaning.
    pub snippet: String,
    pub score: f64,
    /// Its rank by words (1 = first), if the words found it.
    pub word_rank: Option<usize>,
    /// Its rank by meaning, if the vectors found it.
    pub meaning_rank: Option<usize>,
}

/// Embeds every message and chunk that has no vector from `embedder`'s model yet (or one
/// from another model), `INDEX_BATCH` at a time; `progress(done, total)` after each batch.
/// Resumable by construction: what is done is stored, and the next run picks up the rest.
pub async fn index(store: &Store, embedder: &Embedder, mut progress: impl FnMut(usize, usize)) -> Result<usize> {
    let model_id = embedder.info().model_id.clone();
    let total = usize::try_from(store.unembedded_count(&model_id).await?).unwrap_or(0);
    let mut done = 0;
    while done < total {
        let todo = store.unembedded(&model_id, INDEX_BATCH as i64).await?;
        if todo.is_empty() {
            break;
        }
        let vectors = embedder.embed(todo.iter().map(|t| t.text.clone()).collect()).await?;
        let rows: Vec<StoredVector> = todo
            .iter()
            .zip(vectors)
            .map(|(t, e)| StoredVector {
                kind: t.kind,
                source_id: t.source_id,
                part: t.part,
                vector: e.vector,
            })
            .collect();
        store.put_vectors(&model_id, &rows).await?;
        done += rows.len();
        progress(done.min(total), total);
    }
    Ok(done)
}

type Key = (SourceKind, i64, i64);

/// A candidate's fused score, its rank in each list, and its word snippet.
#[derive(Default)]
struct Fused {
    score: f64,
    word_rank: Option<usize>,
    meaning_rank: Option<usize>,
    snippet: Option<String>,
}

/// Searches; `embedder` adds matches by meaning (index first: only what has a vector is
/// found by meaning).
pub async fn search(
    store: &Store,
    embedder: Option<&Embedder>,
    query: &str,
    options: &SearchOptions,
) -> Result<Vec<Hit>> {
    let mut words: Vec<(Key, String)> = Vec::new();
    if options.kinds.contains(&SourceKind::Chunk) {
        for m in store.search_chunks(query, CANDIDATES as i64).await? {
            words.push(((SourceKind::Chunk, m.document_id, m.idx), m.snippet));
        }
    }
    if options.kinds.contains(&SourceKind::Message) {
        for (id, snippet) in store.search_messages_any(query, CANDIDATES as i64).await? {
            words.push(((SourceKind::Message, id, 0), snippet));
        }
    }
    // Two BM25 lists (chunks, messages) are not on one scale: take them in turn.
    let words = interleave(words);
    let meaning = match embedder {
        Some(e) if !query.trim().is_empty() => {
            let q = e.embed_one(query).await?;
            let mut scored: Vec<(Key, f32)> = store
                .vectors(&e.info().model_id, &options.kinds)
                .await?
                .into_iter()
                .map(|v| ((v.kind, v.source_id, v.part), cosine(&q, &v.vector)))
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1));
            scored.truncate(CANDIDATES);
            scored.into_iter().map(|(k, _)| k).collect()
        }
        _ => Vec::new(),
    };
    let mut fused: HashMap<Key, Fused> = HashMap::new();
    for (rank, (key, snippet)) in words.into_iter().enumerate() {
        let e = fused.entry(key).or_default();
        e.score += 1.0 / (RRF_K + rank as f64 + 1.0);
        e.word_rank = Some(rank + 1);
        e.snippet = Some(snippet);
    }
    for (rank, key) in meaning.into_iter().enumerate() {
        let e = fused.entry(key).or_default();
        e.score += 1.0 / (RRF_K + rank as f64 + 1.0);
        e.meaning_rank = Some(rank + 1);
    }
    let mut ranked: Vec<(Key, Fused)> = fused.into_iter().collect();
    ranked.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0 .1.cmp(&b.0 .1)));
    let mut hits = Vec::new();
    for ((kind, source_id, part), f) in ranked {
        let Fused {
            score,
            word_rank,
            meaning_rank,
            snippet,
        } = f;
        if hits.len() >= options.limit {
            break;
        }
        let Some(source) = store.hit_source(kind, source_id, part).await? else {
            continue;
        };
        hits.push(Hit {
            kind,
            source_id,
            part,
            parent_id: source.parent_id,
            title: source.title,
            page: source.page,
            snippet: snippet.map_or_else(|| opening(&source.text), |s| one_line(&s)),
            score,
            word_rank,
            meaning_rank,
        });
    }
    Ok(hits)
}

/// Chunks' and messages' word matches, alternating, each list in its own order.
fn interleave(list: Vec<(Key, String)>) -> Vec<(Key, String)> {
    let (chunks, messages): (Vec<_>, Vec<_>) = list.into_iter().partition(|(k, _)| k.0 == SourceKind::Chunk);
    let mut out = Vec::with_capacity(chunks.len() + messages.len());
    let (mut a, mut b) = (chunks.into_iter(), messages.into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return out,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
}

/// A snippet on one line: a passage's line breaks mean nothing in a list of results.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A passage's first words, for a hit by meaning (no words to highlight).
fn opening(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= 30 {
        words.join(" ")
    } else {
        format!("{}…", words[..30].join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_alternate_and_keep_their_order() {
        let k = |kind, id| ((kind, id, 0), String::new());
        let list = vec![
            k(SourceKind::Chunk, 1),
            k(SourceKind::Chunk, 2),
            k(SourceKind::Chunk, 3),
            k(SourceKind::Message, 10),
        ];
        let ids: Vec<i64> = interleave(list).into_iter().map(|(k, _)| k.1).collect();
        assert_eq!(ids, [1, 10, 2, 3]);
    }

    #[test]
    fn an_opening_is_the_first_thirty_words() {
        assert_eq!(opening("a  b\nc"), "a b c");
        let long = "w ".repeat(40);
        assert!(opening(&long).ends_with('…'));
        assert_eq!(opening(&long).split_whitespace().count(), 30);
    }
}
