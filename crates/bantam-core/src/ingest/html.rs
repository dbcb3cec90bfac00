//! HTML: dom_smoothie (a port of Mozilla's Readability) finds the main content and drops
//! menus, sidebars and scripts; html2text turns it into text with `#` headings. Pages
//! Readability can't make sense of (a bare document, a table of contents) are converted
//! whole.

use super::{clean, Extracted, Format, Hints, IngestError};

/// Readability's article must keep at least this share of the page's text to be trusted;
/// below it, it probably dropped real content (short reference pages, lists).
const MIN_ARTICLE_SHARE: f64 = 0.25;

pub(super) fn extract(html: &str) -> Result<Extracted, IngestError> {
    let whole = to_text(html)?;
    let mut hints = Hints::default();
    let mut text = whole.clone();
    if let Ok(mut readability) = dom_smoothie::Readability::new(html, None, None) {
        if let Ok(article) = readability.parse() {
            hints = Hints {
                title: clean(Some(article.title.clone())),
                authors: clean(article.byline.clone()).into_iter().collect(),
                date: clean(article.published_time.clone()),
                language: clean(article.lang.clone()),
            };
            let main = to_text(&article.content)?;
            if main.len() as f64 >= whole.len() as f64 * MIN_ARTICLE_SHARE {
                text = main;
            }
        }
    }
    if hints.title.is_none() {
        hints.title = clean(title_tag(html));
    }
    Ok(Extracted {
        format: Format::Html,
        text,
        page_starts: Vec::new(),
        hints,
    })
}

fn to_text(html: &str) -> Result<String, IngestError> {
    // Wide lines: wrapping would only cost the model tokens.
    let text = html2text::config::plain()
        .link_footnotes(false)
        .string_from_read(html.as_bytes(), 100_000)
        .map_err(|e| IngestError::Corrupt {
            format: "HTML".into(),
            reason: e.to_string(),
        })?;
    Ok(super::text::normalize(&text).trim().to_string())
}

fn title_tag(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    html.get(open_end..close).map(str::to_string)
}
