//! What search reads and writes: the vectors of messages, document chunks, memories and
//! mail, what has none yet under the current embedding model, and BM25 over chunks and
//! mail.

use serde::Serialize;

use super::Store;
use crate::error::Result;

/// A mail's text as search reads it (`x` a row of `mail_messages`): the subject, a blank
/// line, the body.
macro_rules! mail_text {
    () => {
        "x.subject || char(10) || char(10) || coalesce(json_extract(x.message, '$.text'), '')"
    };
}

/// What a vector or a hit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum SourceKind {
    /// A chat message (`source_id` its id).
    Message,
    /// A document's chunk (`source_id` the document, `part` the chunk's index).
    Chunk,
    /// A fact in the memory of the user (`source_id` its id).
    Memory,
    /// A mail message (`source_id` its id in `mail_messages`).
    Mail,
}

/// A piece of stored text that needs a vector.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Unembedded {
    pub kind: SourceKind,
    pub source_id: i64,
    pub part: i64,
    pub text: String,
}

/// A stored vector: one window of a message's or a chunk's text.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVector {
    pub kind: SourceKind,
    pub source_id: i64,
    pub part: i64,
    pub window: i64,
    pub vector: Vec<f32>,
}

/// A chunk that matched words, best first.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChunkMatch {
    pub document_id: i64,
    pub idx: i64,
    pub snippet: String,
}

fn to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(super) fn from_blob(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// English function words: in a question they match nearly every passage and would let
/// words outvote meaning (the question "Am I allowed to have a pet?" matched a chat
/// message by its "to").
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "me",
    "more", "most", "my", "no", "nor", "not", "of", "on", "or", "our", "ours", "out", "over", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to",
    "too", "under", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
    "will", "with", "would", "you", "your", "yours",
];

/// An FTS5 query for any of the words, each quoted (punctuation is text) and matched as a
/// prefix ("pet" finds "pets"): a question in plain words rarely has all of them in the
/// passage that answers it. Function words are left out unless there is nothing else.
pub(super) fn any_word(input: &str) -> Option<String> {
    let terms: Vec<String> = query_terms(input).iter().map(|w| format!("\"{w}\"*")).collect();
    (!terms.is_empty()).then(|| terms.join(" OR "))
}

/// The words a query is matched by: lower-cased, function words left out unless there is
/// nothing else.
pub fn query_terms(input: &str) -> Vec<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let content: Vec<String> = words
        .iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .cloned()
        .collect();
    if content.is_empty() {
        words
    } else {
        content
    }
}

impl Store {
    /// Up to `limit` messages, chunks, memories and mail with no vector from `model_id` (none, or one from
    /// another model), oldest first.
    pub async fn unembedded(&self, model_id: &str, limit: i64) -> Result<Vec<Unembedded>> {
        Ok(sqlx::query_as(&format!(
            "SELECT 'message' AS kind, m.id AS source_id, 0 AS part, m.content AS text
             FROM messages m
             LEFT JOIN embeddings e ON e.kind = 'message' AND e.source_id = m.id AND e.window = 0
                                    AND e.model_id = ?1
             WHERE e.source_id IS NULL AND trim(m.content) != ''
             UNION ALL
             SELECT 'chunk', c.document_id, c.idx, c.text
             FROM document_chunks c
             LEFT JOIN embeddings e ON e.kind = 'chunk' AND e.source_id = c.document_id AND e.part = c.idx
                                    AND e.window = 0 AND e.model_id = ?1
             WHERE e.source_id IS NULL
             UNION ALL
             SELECT 'memory', f.id, 0, f.text
             FROM memories f
             LEFT JOIN embeddings e ON e.kind = 'memory' AND e.source_id = f.id AND e.window = 0
                                    AND e.model_id = ?1
             WHERE e.source_id IS NULL
             UNION ALL
             SELECT 'mail', x.id, 0, {}
             FROM mail_messages x
             LEFT JOIN embeddings e ON e.kind = 'mail' AND e.source_id = x.id AND e.window = 0
                                    AND e.model_id = ?1
             WHERE e.source_id IS NULL
             LIMIT ?2",
            mail_text!()
        ))
        .bind(model_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many messages, chunks, memories and mail have no vector from `model_id`.
    pub async fn unembedded_count(&self, model_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM messages m WHERE trim(m.content) != '' AND NOT EXISTS
                        (SELECT 1 FROM embeddings e WHERE e.kind = 'message' AND e.source_id = m.id
                                                      AND e.model_id = ?1))
                  + (SELECT count(*) FROM document_chunks c WHERE NOT EXISTS
                        (SELECT 1 FROM embeddings e WHERE e.kind = 'chunk' AND e.source_id = c.document_id
                                                      AND e.part = c.idx AND e.model_id = ?1))
                  + (SELECT count(*) FROM memories f WHERE NOT EXISTS
                        (SELECT 1 FROM embeddings e WHERE e.kind = 'memory' AND e.source_id = f.id
                                                      AND e.model_id = ?1))
                  + (SELECT count(*) FROM mail_messages x WHERE NOT EXISTS
                        (SELECT 1 FROM embeddings e WHERE e.kind = 'mail' AND e.source_id = x.id
                                                      AND e.model_id = ?1))",
        )
        .bind(model_id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Stores vectors in one transaction. A source's window 0 replaces all it had (another
    /// model's vectors, windows of an older text), so give a source's windows together.
    pub async fn put_vectors(&self, model_id: &str, vectors: &[StoredVector]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for v in vectors {
            if v.window == 0 {
                sqlx::query("DELETE FROM embeddings WHERE kind = ? AND source_id = ? AND part = ?")
                    .bind(v.kind)
                    .bind(v.source_id)
                    .bind(v.part)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT OR REPLACE INTO embeddings (kind, source_id, part, window, model_id, vector)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(v.kind)
            .bind(v.source_id)
            .bind(v.part)
            .bind(v.window)
            .bind(model_id)
            .bind(to_blob(&v.vector))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every vector from `model_id` of these kinds, read from the file now (search reads
    /// them through `vector_matrix`; this shows what is stored).
    pub async fn vectors(&self, model_id: &str, kinds: &[SourceKind]) -> Result<Vec<StoredVector>> {
        let mut out = Vec::new();
        for &kind in kinds {
            let rows: Vec<(i64, i64, i64, Vec<u8>)> = sqlx::query_as(
                "SELECT source_id, part, window, vector FROM embeddings WHERE model_id = ? AND kind = ?",
            )
            .bind(model_id)
            .bind(kind)
            .fetch_all(&self.pool)
            .await?;
            out.extend(rows.into_iter().map(|(source_id, part, window, blob)| StoredVector {
                kind,
                source_id,
                part,
                window,
                vector: from_blob(&blob),
            }));
        }
        Ok(out)
    }

    /// Chunks matching any word of `query`, ranked by BM25 (more and rarer words first).
    pub async fn search_chunks(&self, query: &str, limit: i64) -> Result<Vec<ChunkMatch>> {
        let Some(fts) = any_word(query) else {
            return Ok(Vec::new());
        };
        Ok(sqlx::query_as(
            "SELECT CAST(document_id AS INTEGER) AS document_id, CAST(idx AS INTEGER) AS idx,
                    snippet(chunks_fts, 0, '[', ']', '…', 16) AS snippet
             FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
        )
        .bind(fts)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// A mail hit: it opens the message itself; its title is the subject (or who sent it).
const MAIL_SOURCE: &str = concat!(
    "SELECT x.id AS parent_id,
            CASE WHEN trim(x.subject) != '' THEN x.subject ELSE coalesce(x.from_address, '(no subject)') END
                AS title, ",
    mail_text!(),
    " AS text, NULL AS page FROM mail_messages x WHERE x.id = ?1 AND ?2 = 0"
);

/// Where a hit is and what it says, for showing it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HitSource {
    /// The conversation (a message, or the one a memory came from; 0 for a memory added
    /// by hand), the document (a chunk) or the mail message itself.
    pub parent_id: i64,
    /// The conversation's title, the document's name or the mail's subject.
    pub title: String,
    pub text: String,
    /// A chunk's first page, when the document has pages.
    pub page: Option<i64>,
}

impl Store {
    /// Mail matching any word of `query` (BM25, a word in the subject worth two in the
    /// body), best first: (message id, snippet of the field that matched best).
    pub async fn search_mail(&self, query: &str, limit: i64) -> Result<Vec<(i64, String)>> {
        let Some(fts) = any_word(query) else {
            return Ok(Vec::new());
        };
        Ok(sqlx::query_as(
            "SELECT CAST(mail_id AS INTEGER), snippet(mail_fts, -1, '[', ']', '…', 16)
             FROM mail_fts WHERE mail_fts MATCH ? ORDER BY bm25(mail_fts, 2.0, 1.0, 1.0) LIMIT ?",
        )
        .bind(fts)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Messages matching any word of `query` (BM25), best first: (message id, snippet).
    pub async fn search_messages_any(&self, query: &str, limit: i64) -> Result<Vec<(i64, String)>> {
        self.any_word_rows("messages_fts", query, limit).await
    }

    /// Rows of an external-content FTS5 `table` matching any word of `query` (BM25),
    /// best first: (rowid, snippet of its first column).
    pub(super) async fn any_word_rows(
        &self,
        table: &'static str,
        query: &str,
        limit: i64,
    ) -> Result<Vec<(i64, String)>> {
        let Some(fts) = any_word(query) else {
            return Ok(Vec::new());
        };
        Ok(sqlx::query_as(&format!(
            "SELECT rowid, snippet({table}, 0, '[', ']', '…', 16)
             FROM {table} WHERE {table} MATCH ? ORDER BY rank LIMIT ?"
        ))
        .bind(fts)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// What a hit points at; `None` when it is gone.
    pub async fn hit_source(&self, kind: SourceKind, source_id: i64, part: i64) -> Result<Option<HitSource>> {
        let query = match kind {
            SourceKind::Message => {
                "SELECT c.id AS parent_id, c.title AS title, m.content AS text, NULL AS page
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?1 AND ?2 = 0"
            }
            SourceKind::Chunk => {
                "SELECT d.id AS parent_id, d.name AS title, k.text AS text, k.page_start AS page
                 FROM document_chunks k JOIN documents d ON d.id = k.document_id
                 WHERE k.document_id = ?1 AND k.idx = ?2"
            }
            SourceKind::Memory => {
                "SELECT coalesce(m.conversation_id, 0) AS parent_id, 'Memory' AS title, f.text AS text,
                        NULL AS page
                 FROM memories f LEFT JOIN messages m ON m.id = f.source_message_id WHERE f.id = ?1 AND ?2 = 0"
            }
            SourceKind::Mail => MAIL_SOURCE,
        };
        Ok(sqlx::query_as(query)
            .bind(source_id)
            .bind(part)
            .fetch_optional(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_word_quotes_each_word() {
        assert_eq!(any_word("Pets, allowed?").as_deref(), Some("\"pets\"* OR \"allowed\"*"));
        assert_eq!(
            any_word("Am I allowed to have a pet?").as_deref(),
            Some("\"allowed\"* OR \"pet\"*")
        );
        assert_eq!(
            any_word("to be or not").as_deref(),
            Some("\"to\"* OR \"be\"* OR \"or\"* OR \"not\"*")
        );
        assert_eq!(any_word(" -- "), None);
    }

    #[test]
    fn vectors_survive_the_blob() {
        let v = vec![0.25f32, -1.5, 3.0e-8, f32::MIN_POSITIVE];
        assert_eq!(from_blob(&to_blob(&v)), v);
    }
}
