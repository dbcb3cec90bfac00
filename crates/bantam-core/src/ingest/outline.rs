//! A document's outline: its sections, known from its structure rather than read by a
//! model. "How many sections does the GPL have?" is a question about structure, and the
//! small models answer it wrongly from the text (they count subsections and numbered list
//! items too); the outline counts exactly.
//!
//! Formats with markup (Markdown, HTML, DOCX, mail) give their headings (`#` lines after
//! extraction). Plain text and PDFs have no markup, so a section there is a numbered
//! paragraph — "2. Grant of Copyright License. Subject to …" — and the sections are the
//! longest run of them numbered one after another (0 or 1, 2, 3 …) in the order they
//! appear, which leaves out a stray "7." inside another section's list.

use super::{chunk, Format};

/// One section of the outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Byte offset of its heading in the document's text.
    pub offset: usize,
    /// "2" for a numbered section, as the document numbers it.
    pub number: Option<String>,
    pub title: String,
}

impl Section {
    /// "2. Grant of Copyright License", or the title alone.
    pub fn label(&self) -> String {
        match &self.number {
            Some(n) => format!("{n}. {}", self.title),
            None => self.title.clone(),
        }
    }
}

/// A title longer than this is cut (a numbered paragraph without a heading of its own
/// starts with its first sentence).
const MAX_TITLE_CHARS: usize = 80;

/// The document's top-level sections, in order; empty when it has fewer than two (one
/// heading is a title, not an outline). With `numbered`, only numbered sections.
pub fn sections(text: &str, format: Format, numbered: bool) -> Vec<Section> {
    let marked = format.is_marked_up();
    let headings = if marked {
        top_level(chunk::headings(text))
    } else {
        Vec::new()
    };
    let candidates = if marked {
        headings
            .iter()
            .filter_map(|h| {
                let (number, title) = split_number(&h.title)?;
                Some((
                    0,
                    Section {
                        offset: h.offset,
                        number: Some(number),
                        title,
                    },
                ))
            })
            .collect()
    } else {
        numbered_paragraphs(text)
    };
    let run = longest_run(&candidates);
    let out = if run.len() >= 2 {
        run
    } else if numbered {
        Vec::new()
    } else {
        headings
    };
    if out.len() >= 2 {
        out
    } else {
        Vec::new()
    }
}

/// The headings of the shallowest level that has at least two (the `#` title of a page
/// is alone on its level; its sections are the level below).
fn top_level(headings: Vec<(usize, usize, String)>) -> Vec<Section> {
    let level = (1..=6).find(|l| headings.iter().filter(|(_, hl, _)| hl == l).count() >= 2);
    headings
        .into_iter()
        .filter(|(_, l, _)| Some(*l) == level)
        .map(|(offset, _, title)| Section {
            offset,
            number: None,
            title,
        })
        .collect()
}

/// "12. Patents." → ("12", "Patents"); a number with parts ("2.1.") is a subsection.
fn split_number(line: &str) -> Option<(String, String)> {
    let line = line.trim_start();
    let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 3 {
        return None;
    }
    let rest = line[digits.len()..].strip_prefix('.').unwrap_or(&line[digits.len()..]);
    // "2.1. Grants" is a subsection, "3.5 kg" no heading at all.
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim();
    if !rest.starts_with(|c: char| c.is_uppercase() || c == '"' || c == '\'') {
        return None;
    }
    Some((digits, title_of(rest)))
}

/// The heading part of a numbered paragraph's first line: up to the end of its first
/// sentence ("Grant of Copyright License. Subject to …"), cut at a word if long.
fn title_of(rest: &str) -> String {
    let title = match rest.find(". ") {
        Some(end) => &rest[..end],
        None => rest.trim_end_matches('.'),
    };
    if title.chars().count() <= MAX_TITLE_CHARS {
        return title.to_string();
    }
    let mut cut = String::new();
    for word in title.split_whitespace() {
        if cut.chars().count() + word.chars().count() + 1 > MAX_TITLE_CHARS {
            break;
        }
        if !cut.is_empty() {
            cut.push(' ');
        }
        cut.push_str(word);
    }
    format!("{cut} …")
}

/// Paragraphs of plain text that start with a number, with their indentation: after a
/// blank line, with any box drawn around them ("*  6. Disclaimer of Warranty  *") taken
/// off.
fn numbered_paragraphs(text: &str) -> Vec<(usize, Section)> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut after_blank = true;
    for line in text.split_inclusive('\n') {
        let inner = unboxed(line);
        // A rule or the edge of a box ("*****", "-----") separates like a blank line.
        if inner.chars().all(|c| c.is_whitespace() || "*-=_|~#".contains(c)) {
            after_blank = true;
        } else {
            if after_blank {
                if let Some((number, title)) = split_number(inner) {
                    let indent = inner.len() - inner.trim_start().len();
                    out.push((
                        indent,
                        Section {
                            offset,
                            number: Some(number),
                            title,
                        },
                    ));
                }
            }
            after_blank = false;
        }
        offset += line.len();
    }
    out
}

/// A line without the frame of a text box (a leading and trailing `*` or `|`), its
/// indentation kept.
fn unboxed(line: &str) -> &str {
    let t = line.trim_end();
    let framed = t.trim_start();
    for frame in ['*', '|'] {
        if let Some(inner) = framed.strip_prefix(frame).and_then(|s| s.strip_suffix(frame)) {
            return inner;
        }
    }
    t
}

/// The longest run of sections numbered n, n+1, n+2 … in document order, starting at 0
/// or 1 (others may come between them). Between equally long runs, a section follows the
/// one indented as it is, then the nearest: "1. Rent", not a "1." listed inside section 0.
fn longest_run(candidates: &[(usize, Section)]) -> Vec<Section> {
    let numbers: Vec<Option<u32>> = candidates
        .iter()
        .map(|(_, c)| c.number.as_deref().and_then(|n| n.parse().ok()))
        .collect();
    // best[i]: (length of the run ending at i, the candidate before i in it).
    let mut best: Vec<(usize, Option<usize>)> = Vec::with_capacity(candidates.len());
    for (i, n) in numbers.iter().enumerate() {
        let entry = match n {
            Some(0) => (1, None),
            Some(n) => (0..i)
                .filter(|&j| numbers[j] == Some(n - 1) && best[j].0 > 0)
                .max_by_key(|&j| (best[j].0, candidates[j].0 == candidates[i].0, j))
                .map_or((usize::from(*n == 1), None), |j| (best[j].0 + 1, Some(j))),
            None => (0, None),
        };
        best.push(entry);
    }
    let Some(mut at) = (0..best.len()).filter(|&i| best[i].0 > 0).max_by_key(|&i| best[i].0) else {
        return Vec::new();
    };
    let mut run = vec![candidates[at].1.clone()];
    while let Some(prev) = best[at].1 {
        run.push(candidates[prev].1.clone());
        at = prev;
    }
    run.reverse();
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_paragraphs_of_plain_text_are_its_sections() {
        let text =
            "TERMS AND CONDITIONS\n\n  0. Definitions.\n\n    1. A listed item.\n\n  \"This License\" means …\n\n  \
                    1. Source Code.\n\n  The source code …\n\n    7.  A stray list item in \
                    section one.\n\n  2. Grant of Copyright License. Subject to the terms …\n    more \
                    words.\n\n*******\n*  3. Disclaimer of Warranty   *\n*  ---------  *\n*******\n\n\
                    3.1. A subsection\n\nIt is 4. Not a heading\n";
        let s = sections(text, Format::Text, true);
        let labels: Vec<String> = s.iter().map(Section::label).collect();
        assert_eq!(
            labels,
            [
                "0. Definitions",
                "1. Source Code",
                "2. Grant of Copyright License",
                "3. Disclaimer of Warranty"
            ]
        );
        assert_eq!(&text[s[1].offset..s[1].offset + 17], "  1. Source Code.");
    }

    #[test]
    fn marked_up_documents_give_their_top_headings() {
        let text = "# The HOWTO\n\nIntro.\n\n## Basics\n\ntext\n\n### Detail\n\n## Advanced\n\n\
                    ```\n## not a heading\n```\n";
        let s = sections(text, Format::Html, false);
        let titles: Vec<&str> = s.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["Basics", "Advanced"]);
        // No numbered headings: nothing for "numbered sections".
        assert!(sections(text, Format::Html, true).is_empty());
        // A numbered list in Markdown is not an outline; one heading is a title.
        assert!(sections("# Title\n\n1. Download\n\n2. Run\n", Format::Markdown, false).is_empty());
        let numbered = "# Guide\n\n## 1. Install\n\n## 2. Use\n\n## Appendix\n";
        assert_eq!(sections(numbered, Format::Markdown, true).len(), 2);
    }

    #[test]
    fn long_first_sentences_are_cut_at_a_word() {
        let (n, t) = split_number(
            "10. THIS PACKAGE IS PROVIDED AS IS AND WITHOUT ANY EXPRESS OR IMPLIED WARRANTIES INCLUDING \
             WITHOUT LIMITATION THE IMPLIED WARRANTIES",
        )
        .unwrap();
        assert_eq!(n, "10");
        assert!(t.ends_with(" …") && t.chars().count() <= MAX_TITLE_CHARS + 2, "{t}");
        assert_eq!(split_number("3.5 kg of flour"), None);
        assert_eq!(split_number("2.1. Grants"), None);
    }
}
