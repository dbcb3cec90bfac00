//! HTML: dom_smoothie (a port of Mozilla's Readability) finds the main content and drops
//! menus, sidebars and scripts; html2text turns it into text with `#` headings. Pages
//! Readability can't make sense of (a bare document, a table of contents) are converted
//! whole. Code blocks are fenced first (html2text writes `<pre>` as bare lines, and a
//! `# comment` in one would read as a heading), and permalink anchors ("¶") dropped.

use super::{clean, Extracted, Format, Hints, IngestError};

/// Readability's article must keep at least this share of the page's text to be trusted;
/// below it, it probably dropped real content (short reference pages, lists).
const MIN_ARTICLE_SHARE: f64 = 0.25;

pub(super) fn extract(html: &str) -> Result<Extracted, IngestError> {
    let prepared = prepare(html);
    let html = prepared.as_str();
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

/// Whose text is only one of these, a link is a permalink to its heading (Sphinx's "¶",
/// GitHub's "#", "§").
const PERMALINK_TEXTS: &[&str] = &["¶", "#", "§", "🔗"];

/// The page with its code blocks fenced (```) and its permalink anchors removed.
fn prepare(html: &str) -> String {
    let doc = dom_query::Document::from(html);
    for pre in doc.select("pre").iter() {
        pre.prepend_html("```\n");
        pre.append_html("\n```");
    }
    for link in doc.select("a").iter() {
        if PERMALINK_TEXTS.contains(&link.text().trim()) {
            link.remove();
        }
    }
    doc.html().to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_fenced_and_permalinks_dropped() {
        let html = "<html><body><h1>Guide<a class=\"headerlink\" href=\"#guide\">¶</a></h1>\
                    <p>Run it:</p><div class=\"highlight\"><pre><span># create logger</span>\n\
                    logger = make()</pre></div><h2>Next</h2><p>See <a href=\"x.html\">the API</a>.</p>\
                    </body></html>";
        let text = to_text(&prepare(html)).unwrap();
        assert!(text.contains("# Guide\n"), "{text}");
        assert!(!text.contains('¶'), "{text}");
        assert!(text.contains("```\n# create logger\nlogger = make()\n```"), "{text}");
        assert!(text.contains("the API"), "{text}");
        let headings: Vec<String> = super::super::chunk::headings(&text).into_iter().map(|h| h.2).collect();
        assert_eq!(headings, ["Guide", "Next"]);
    }
}
