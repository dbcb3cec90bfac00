//! Structure-aware, token-aware chunking with text-splitter: Markdown-shaped text splits
//! at headings, then paragraphs, then sentences; plain text and PDFs at page breaks
//! (three newlines), paragraphs, then sentences. Sizes are counted with the model's own
//! tokenizer, so a chunk always fits the budget the prompt was planned for.

use serde::{Deserialize, Serialize};
use text_splitter::{ChunkConfig, ChunkSizer, MarkdownSplitter, TextSplitter};

use super::Extracted;

/// Counts tokens the way the model will see them.
pub trait TokenCounter: Send + Sync {
    fn count(&self, text: &str) -> usize;

    /// Where each of `text`'s tokens starts (ascending byte offsets), when the tokenizer
    /// can say: then a document is tokenized once and any slice of it is counted by lookup.
    fn token_starts(&self, _text: &str) -> Option<Vec<usize>> {
        None
    }
}

/// What text-splitter asks while it searches for each chunk's end: dozens of candidate
/// slices per chunk. Tokenizing each one made chunking most of the time an ingest took
/// (0.34 s of a 50-page PDF; `cargo bench -p bantam-core --bench chunking`).
enum Sizer<'a> {
    Exact(&'a dyn TokenCounter),
    /// Tokens of the whole text that overlap the slice, plus one: the slice tokenized on
    /// its own may split its first or last word differently. Chunks are checked with
    /// exact counts afterwards.
    Indexed {
        counter: &'a dyn TokenCounter,
        text: &'a str,
        starts: Vec<usize>,
    },
}

impl ChunkSizer for Sizer<'_> {
    fn size(&self, chunk: &str) -> usize {
        match self {
            Sizer::Exact(counter) => counter.count(chunk),
            Sizer::Indexed { counter, text, starts } => {
                // text-splitter hands out slices of the text it was given.
                let a = (chunk.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
                if chunk.is_empty() || a > text.len() || text.len() - a < chunk.len() {
                    return counter.count(chunk);
                }
                let b = a + chunk.len();
                let first = starts.partition_point(|&s| s <= a).saturating_sub(1);
                starts.partition_point(|&s| s < b) - first + 1
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    pub index: usize,
    pub text: String,
    pub tokens: usize,
    /// Byte range in the document's text.
    pub start: usize,
    pub end: usize,
    /// 1-based pages the chunk spans, for paged formats.
    pub page_start: Option<usize>,
    pub page_end: Option<usize>,
    /// The headings above the chunk, outermost first.
    pub heading_path: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Chunker {
    pub max_tokens: usize,
    pub overlap_tokens: usize,
}

impl Default for Chunker {
    fn default() -> Self {
        Self {
            max_tokens: 1024,
            overlap_tokens: 64,
        }
    }
}

impl Chunker {
    pub fn chunk(&self, doc: &Extracted, counter: &dyn TokenCounter) -> Vec<Chunk> {
        if let Some(starts) = counter.token_starts(&doc.text) {
            let sizer = Sizer::Indexed {
                counter,
                text: &doc.text,
                starts,
            };
            let chunks = self.split(doc, counter, sizer);
            // The estimate is built to err high; should a tokenizer surprise it, the
            // budget still holds.
            if chunks.iter().all(|c| c.tokens <= self.max_tokens.max(16)) {
                return chunks;
            }
        }
        self.split(doc, counter, Sizer::Exact(counter))
    }

    fn split(&self, doc: &Extracted, counter: &dyn TokenCounter, sizer: Sizer<'_>) -> Vec<Chunk> {
        let max = self.max_tokens.max(16);
        let config = ChunkConfig::new(max)
            .with_overlap(self.overlap_tokens.min(max / 2))
            .unwrap_or_else(|_| ChunkConfig::new(max))
            .with_sizer(sizer);
        let structured = doc.format.is_marked_up();
        let pieces: Vec<(usize, &str)> = if structured {
            MarkdownSplitter::new(config).chunk_indices(&doc.text).collect()
        } else {
            TextSplitter::new(config).chunk_indices(&doc.text).collect()
        };
        let headings = if structured { headings(&doc.text) } else { Vec::new() };
        pieces
            .into_iter()
            .enumerate()
            .map(|(index, (start, text))| {
                let end = start + text.len();
                Chunk {
                    index,
                    tokens: counter.count(text),
                    text: text.to_string(),
                    start,
                    end,
                    page_start: doc.page_at(start),
                    page_end: doc.page_at(end.saturating_sub(1).max(start)),
                    heading_path: heading_path(&headings, start),
                }
            })
            .collect()
    }
}

/// ATX headings (`## Title`) outside fenced code: (offset, level, title).
pub(super) fn headings(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut fenced = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            let level = trimmed.chars().take_while(|&c| c == '#').count();
            if (1..=6).contains(&level) && trimmed[level..].starts_with(' ') {
                out.push((offset, level, trimmed[level..].trim().to_string()));
            }
        }
        offset += line.len();
    }
    out
}

fn heading_path(headings: &[(usize, usize, String)], at: usize) -> Vec<String> {
    let mut stack: Vec<(usize, &str)> = Vec::new();
    for (offset, level, title) in headings.iter().take_while(|(o, _, _)| *o <= at) {
        let _ = offset;
        while stack.last().is_some_and(|(l, _)| l >= level) {
            stack.pop();
        }
        stack.push((*level, title));
    }
    stack.into_iter().map(|(_, t)| t.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Format;
    use crate::ingest::Hints;

    /// A word counter stands in for the tokenizer here; the real one is tested with the model.
    struct Words;
    impl TokenCounter for Words {
        fn count(&self, text: &str) -> usize {
            text.split_whitespace().count()
        }
    }

    fn doc(format: Format, text: &str, page_starts: Vec<usize>) -> Extracted {
        Extracted {
            format,
            text: text.into(),
            page_starts,
            hints: Hints::default(),
        }
    }

    #[test]
    fn chunks_fit_the_budget_and_know_their_headings() {
        let body = "word ".repeat(30);
        let text = format!("# Guide\n\n{body}\n\n## Install\n\n{body}\n\n### Debian\n\n{body}\n\n## Use\n\n{body}");
        let chunks = Chunker {
            max_tokens: 40,
            overlap_tokens: 0,
        }
        .chunk(&doc(Format::Markdown, &text, vec![]), &Words);
        assert!(chunks.len() >= 4, "{chunks:#?}");
        assert!(chunks.iter().all(|c| c.tokens <= 40));
        let debian = chunks
            .iter()
            .find(|c| c.text.contains("### Debian"))
            .expect("a Debian chunk");
        assert_eq!(debian.heading_path, ["Guide", "Install", "Debian"]);
        let last = chunks.last().expect("chunks");
        assert_eq!(last.heading_path, ["Guide", "Use"]);
        assert_eq!(&text[last.start..last.end], last.text);
    }

    #[test]
    fn pages_are_tracked() {
        let page = "Sentence one is here now yes. Sentence two is here now yes.";
        let text = format!("{page}\n\n\n{page}\n\n\n{page}");
        let starts = vec![0, page.len() + 3, 2 * (page.len() + 3)];
        let chunks = Chunker {
            max_tokens: 16,
            overlap_tokens: 0,
        }
        .chunk(&doc(Format::Pdf, &text, starts), &Words);
        assert_eq!(chunks.first().and_then(|c| c.page_start), Some(1));
        assert_eq!(chunks.last().and_then(|c| c.page_end), Some(3));
        assert!(chunks.iter().all(|c| c.page_start == c.page_end), "{chunks:#?}");
    }
}
