//! Search across chats, documents, the memory of the user and mail: words (FTS5's BM25) and meaning (the embedding
//! model's vectors, exact cosine, each text as overlapping windows) fused by reciprocal
//! rank fusion — each list's rank, not its score, counts (`1 / (60 + rank)`), so BM25's
//! unbounded scores and cosines need no common scale, and a passage both lists rank well
//! beats one only one of them likes (Cormack et al., 2009; GPT4All's LocalDocs fuses the
//! same way). Next to matches by meaning, a match by words counts only when the passage
//! has every word of the query (function words aside): a question asked in other words
//! than the passage's matches many passages by a common word or two, and those outvoted
//! the match by meaning (chosen on the evaluation's dev questions: docs/search.md).
//! Without an embedding model it is words alone, ranked by BM25.

use std::collections::HashMap;

use serde::Serialize;

use crate::embed::{cosine, Embedder};
use crate::error::{Error, Result};
use crate::store::{HitSource, SourceKind, Store, StoredVector, VectorMatrix};

/// RRF's constant: how much the first ranks outweigh the rest (60 in the paper).
const RRF_K: f64 = 60.0;
/// Candidates taken from each list before fusing.
const CANDIDATES: usize = 50;
/// Messages and chunks embedded per batch while indexing.
const INDEX_BATCH: usize = 16;
/// Words in one embedded window, and how many the next one starts after: all-MiniLM-L6-v2
/// reads 256 tokens (about 190 words) well and was trained on shorter texts; a chunk of
/// a thousand tokens embedded whole would be cut, and a long window blurs its topics.
pub(crate) const WINDOW_WORDS: usize = 100;
pub(crate) const WINDOW_STRIDE: usize = 75;

/// What a search looks through.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub kinds: Vec<SourceKind>,
    pub limit: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            kinds: vec![
                SourceKind::Message,
                SourceKind::Chunk,
                SourceKind::Memory,
                SourceKind::Mail,
            ],
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
    /// The conversation (a message, or the one a memory came from: 0 when added by hand),
    /// the document (a chunk) or the mail message it opens.
    pub parent_id: i64,
    /// The conversation's title, the document's name or the mail's subject.
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
    /// Its best window's cosine to the query and that window's index, if found by meaning.
    pub cosine: Option<f32>,
    pub window: Option<i64>,
}

impl Hit {
    /// Whether it is close enough to count as an answer's source: found by its words
    /// (with vectors, that means every word of the query) or by a cosine of at least
    /// `min_cosine`. `ask`, the whole-document path and the app's search box use this one
    /// rule.
    pub fn is_close(&self, min_cosine: f32) -> bool {
        self.word_rank.is_some() || self.cosine.is_some_and(|c| c >= min_cosine)
    }
}

/// The embedding model's file name (models/fetch-embedding-model.sh writes it).
pub const DEFAULT_EMBED_MODEL: &str = "all-MiniLM-L6-v2.F16.gguf";

/// The embedding model on this machine: in Bantam's models folder, else in the cache the
/// fetch script fills (`~/.cache/bantam`). `None`: search and ask go by words only.
pub fn find_embed_model(models_dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let cache = std::env::var_os("HOME").map(|h| {
        std::path::PathBuf::from(h)
            .join(".cache/bantam")
            .join(DEFAULT_EMBED_MODEL)
    });
    [Some(models_dir.join(DEFAULT_EMBED_MODEL)), cache]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
}

/// Embeds every message and chunk that has no vector from `embedder`'s model yet (or one
/// from another model), `INDEX_BATCH` at a time; `progress(done, total)` after each batch.
/// Resumable by construction: what is done is stored, and the next run picks up the rest.
pub async fn index(store: &Store, embedder: &Embedder, mut progress: impl FnMut(usize, usize)) -> Result<usize> {
    let total = usize::try_from(store.unembedded_count(&embedder.info().model_id).await?).unwrap_or(0);
    let mut done = 0;
    while done < total {
        let n = index_some(store, embedder, INDEX_BATCH, usize::MAX, || async {}).await?;
        if n == 0 {
            break;
        }
        done += n;
        progress(done.min(total), total);
    }
    Ok(done)
}

/// Embeds up to `sources` of what has no vector yet, stored in one transaction; how many
/// it did (0: nothing was left). Their windows go to the model `per_call` at a time, each
/// call once `turn()` gives what is held during it: a long mail is a hundred windows,
/// seconds of work, and background indexing must be able to step aside between them.
pub async fn index_some<T, F, G>(
    store: &Store,
    embedder: &Embedder,
    sources: usize,
    per_call: usize,
    mut turn: T,
) -> Result<usize>
where
    T: FnMut() -> F,
    F: std::future::Future<Output = G>,
{
    let model_id = &embedder.info().model_id;
    let todo = store.unembedded(model_id, sources as i64).await?;
    if todo.is_empty() {
        return Ok(0);
    }
    let windows: Vec<Vec<String>> = todo.iter().map(|t| windows(&t.text)).collect();
    let texts: Vec<String> = windows.iter().flatten().cloned().collect();
    let mut vectors = Vec::with_capacity(texts.len());
    for call in texts.chunks(per_call.max(1)) {
        let _held = turn().await;
        vectors.extend(embedder.embed(call.to_vec()).await?);
    }
    let mut vectors = vectors.into_iter();
    let mut rows: Vec<StoredVector> = Vec::new();
    for (t, w) in todo.iter().zip(&windows) {
        for (window, e) in (0..w.len()).zip(vectors.by_ref()) {
            rows.push(StoredVector {
                kind: t.kind,
                source_id: t.source_id,
                part: t.part,
                window: window as i64,
                vector: e.vector,
            });
        }
    }
    store.put_vectors(model_id, &rows).await?;
    Ok(todo.len())
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

/// A source found by meaning: its key, its best window and that window's cosine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    pub key: (SourceKind, i64, i64),
    pub window: i64,
    pub cosine: f32,
}

/// The sources whose best window is closest to `query` (a unit vector from `model_id`),
/// best first, at most `CANDIDATES`: exact, every stored window of these kinds, scanned
/// in memory off the async threads.
pub async fn nearest(store: &Store, model_id: &str, query: &[f32], options: &SearchOptions) -> Result<Vec<Nearest>> {
    let matrix = store.vector_matrix(model_id).await?;
    let kinds = options.kinds.clone();
    let query = query.to_vec();
    tokio::task::spawn_blocking(move || closest_sources(&matrix, &kinds, &query, CANDIDATES))
        .await
        .map_err(Error::panicked("searching by meaning"))
}

/// The `n` sources of `kinds` whose best window is closest to `query`, best first (ties:
/// the lower source, then part).
fn closest_sources(matrix: &VectorMatrix, kinds: &[SourceKind], query: &[f32], n: usize) -> Vec<Nearest> {
    let mut best: Vec<Nearest> = Vec::new();
    if matrix.dimensions() != query.len() {
        return best;
    }
    // A source's windows are neighbouring rows: its best is kept as they go by.
    for (i, row) in matrix.rows().iter().enumerate() {
        if !kinds.contains(&row.kind) {
            continue;
        }
        let key = (row.kind, row.source_id, row.part);
        let c = cosine(query, matrix.vector(i));
        match best.last_mut() {
            Some(b) if b.key == key => {
                if c > b.cosine {
                    b.cosine = c;
                    b.window = row.window;
                }
            }
            _ => best.push(Nearest {
                key,
                window: row.window,
                cosine: c,
            }),
        }
    }
    let order = |a: &Nearest, b: &Nearest| {
        b.cosine
            .total_cmp(&a.cosine)
            .then(a.key.1.cmp(&b.key.1))
            .then(a.key.2.cmp(&b.key.2))
    };
    if best.len() > n {
        best.select_nth_unstable_by(n, order);
        best.truncate(n);
    }
    best.sort_by(order);
    best
}

/// Searches; `embedder` adds matches by meaning (index first: only what has a vector is
/// found by meaning).
pub async fn search(
    store: &Store,
    embedder: Option<&Embedder>,
    query: &str,
    options: &SearchOptions,
) -> Result<Vec<Hit>> {
    fused(store, embedder, query, options, true).await
}

/// By meaning alone (the evaluation compares it with words alone and with both).
pub async fn search_by_meaning(
    store: &Store,
    embedder: Option<&Embedder>,
    query: &str,
    options: &SearchOptions,
) -> Result<Vec<Hit>> {
    fused(store, embedder, query, options, false).await
}

async fn fused(
    store: &Store,
    embedder: Option<&Embedder>,
    query: &str,
    options: &SearchOptions,
    by_words: bool,
) -> Result<Vec<Hit>> {
    let mut words: Vec<(Key, String)> = Vec::new();
    if by_words && options.kinds.contains(&SourceKind::Chunk) {
        for m in store.search_chunks(query, CANDIDATES as i64).await? {
            words.push(((SourceKind::Chunk, m.document_id, m.idx), m.snippet));
        }
    }
    if by_words && options.kinds.contains(&SourceKind::Message) {
        for (id, snippet) in store.search_messages_any(query, CANDIDATES as i64).await? {
            words.push(((SourceKind::Message, id, 0), snippet));
        }
    }
    if by_words && options.kinds.contains(&SourceKind::Memory) {
        for (id, snippet) in store.search_memories(query, CANDIDATES as i64).await? {
            words.push(((SourceKind::Memory, id, 0), snippet));
        }
    }
    if by_words && options.kinds.contains(&SourceKind::Mail) {
        for (id, snippet) in store.search_mail(query, CANDIDATES as i64).await? {
            words.push(((SourceKind::Mail, id, 0), snippet));
        }
    }
    // BM25 lists of different tables are not on one scale: take them in turn.
    let words = interleave(words);
    // By meaning: a source scores as its best window, and that window is its snippet.
    let mut best_window: HashMap<Key, (i64, f32)> = HashMap::new();
    let meaning: Vec<Key> = match embedder {
        Some(e) if !query.trim().is_empty() => {
            let q = e.embed_one(query).await?;
            nearest(store, &e.info().model_id, &q, options)
                .await?
                .into_iter()
                .map(|n| {
                    best_window.insert(n.key, (n.window, n.cosine));
                    n.key
                })
                .collect()
        }
        _ => Vec::new(),
    };
    // With matches by meaning, a match by words counts only when it has every word of
    // the query (a lookup); alone, words rank as BM25 ranks them.
    let terms = crate::store::query_terms(query);
    let mut fused: HashMap<Key, Fused> = HashMap::new();
    // What the word check read, kept for the hits shown: each source is read once.
    let mut sources: HashMap<Key, HitSource> = HashMap::new();
    for (rank, (key, snippet)) in words.into_iter().enumerate() {
        if !meaning.is_empty() {
            let Some(source) = store.hit_source(key.0, key.1, key.2).await? else {
                continue;
            };
            let has_all = has_every(&terms, &source.text.to_lowercase());
            sources.insert(key, source);
            if !has_all {
                continue;
            }
        }
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
        let source = match sources.remove(&(kind, source_id, part)) {
            Some(source) => source,
            None => match store.hit_source(kind, source_id, part).await? {
                Some(source) => source,
                None => continue,
            },
        };
        let best = best_window.get(&(kind, source_id, part)).copied();
        hits.push(Hit {
            kind,
            source_id,
            part,
            parent_id: source.parent_id,
            title: source.title,
            page: source.page,
            snippet: snippet.map_or_else(
                || {
                    let at = best.map_or(0, |(w, _)| w);
                    let w = windows(&source.text);
                    opening(w.get(at as usize).map_or(source.text.as_str(), String::as_str))
                },
                |s| one_line(&s),
            ),
            score,
            word_rank,
            meaning_rank,
            cosine: best.map(|(_, c)| c),
            window: best.map(|(w, _)| w),
        });
    }
    Ok(hits)
}

/// Chunks', messages', memories' and mail's word matches, taken in turn, each list in
/// its own order.
fn interleave(list: Vec<(Key, String)>) -> Vec<(Key, String)> {
    let mut lists: Vec<std::vec::IntoIter<(Key, String)>> = [
        SourceKind::Chunk,
        SourceKind::Message,
        SourceKind::Memory,
        SourceKind::Mail,
    ]
    .iter()
    .map(|kind| {
        list.iter()
            .filter(|(k, _)| k.0 == *kind)
            .cloned()
            .collect::<Vec<_>>()
            .into_iter()
    })
    .collect();
    let mut out = Vec::with_capacity(list.len());
    loop {
        let before = out.len();
        out.extend(lists.iter_mut().filter_map(Iterator::next));
        if out.len() == before {
            return out;
        }
    }
}

/// Whether every one of `terms` starts a word of `text` (lower-cased), as the word query
/// matches them (a prefix).
fn has_every(terms: &[String], text: &str) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    !terms.is_empty() && terms.iter().all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
}

/// A text's windows: `WINDOW_WORDS` words each, overlapping, the last one ending with the
/// text; a short text is one window.
pub(crate) fn windows(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= WINDOW_WORDS {
        return vec![words.join(" ")];
    }
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + WINDOW_WORDS).min(words.len());
        out.push(words[start..end].join(" "));
        if end == words.len() {
            return out;
        }
        start += WINDOW_STRIDE;
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
            k(SourceKind::Memory, 20),
            k(SourceKind::Memory, 21),
        ];
        let ids: Vec<i64> = interleave(list).into_iter().map(|(k, _)| k.1).collect();
        assert_eq!(ids, [1, 10, 20, 2, 21, 3]);
    }

    #[test]
    fn every_query_word_must_start_a_word_of_the_text() {
        let terms: Vec<String> = ["pool", "directory"].map(String::from).to_vec();
        assert!(has_every(&terms, "packages are kept in a large pool directory"));
        assert!(has_every(&terms, "pools of directory-like things"));
        assert!(!has_every(&terms, "the directories of /usr"));
        assert!(!has_every(&[], "anything"));
    }

    #[test]
    fn windows_overlap_and_cover_the_text() {
        assert_eq!(windows("a short  text"), ["a short text"]);
        assert_eq!(windows(""), [""]);
        let text: Vec<String> = (0..260).map(|i| format!("w{i}")).collect();
        let w = windows(&text.join(" "));
        assert_eq!(w.len(), 4, "0–99, 75–174, 150–249, 225–259");
        assert!(w[0].starts_with("w0 ") && w[0].ends_with(" w99"));
        assert!(w[1].starts_with("w75 ") && w[1].ends_with(" w174"));
        assert!(w[2].starts_with("w150 ") && w[2].ends_with(" w249"));
        assert!(w[3].starts_with("w225 ") && w[3].ends_with(" w259"));
    }

    #[test]
    fn an_opening_is_the_first_thirty_words() {
        assert_eq!(opening("a  b\nc"), "a b c");
        let long = "w ".repeat(40);
        assert!(opening(&long).ends_with('…'));
        assert_eq!(opening(&long).split_whitespace().count(), 30);
    }
}
