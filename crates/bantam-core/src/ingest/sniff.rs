//! Which format a file is, from its first bytes, checked against what its name claims.

use serde::{Deserialize, Serialize};

use super::IngestError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Docx,
    Html,
    Markdown,
    Text,
    Email,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Docx => "DOCX",
            Format::Html => "HTML",
            Format::Markdown => "Markdown",
            Format::Text => "text",
            Format::Email => "email",
        }
    }

    /// Whether its extracted text has Markdown structure (`#` headings): the formats
    /// with markup of their own. Plain text and PDFs have none.
    pub fn is_marked_up(self) -> bool {
        matches!(self, Format::Markdown | Format::Html | Format::Docx | Format::Email)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::Text => "text",
            Format::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Format::Pdf,
            Format::Docx,
            Format::Html,
            Format::Markdown,
            Format::Text,
            Format::Email,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}

/// What the bytes look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Pdf,
    /// A ZIP archive holding `word/document.xml`.
    Docx,
    /// Another ZIP archive (ODT, XLSX, EPUB, plain zip…).
    Zip,
    Html,
    Email,
    Text,
    Binary,
}

impl Content {
    fn describe(self) -> &'static str {
        match self {
            Content::Pdf => "a PDF",
            Content::Docx => "a Word document",
            Content::Zip => "a ZIP archive (not a Word document)",
            Content::Html => "HTML",
            Content::Email => "an email",
            Content::Text => "plain text",
            Content::Binary => "binary data",
        }
    }
}

fn sniff(bytes: &[u8]) -> Content {
    let head = &bytes[..bytes.len().min(8192)];
    // PDF readers accept junk before the header within the first kilobyte.
    if find(&head[..head.len().min(1024)], b"%PDF-").is_some() {
        return Content::Pdf;
    }
    if head.starts_with(b"PK\x03\x04") {
        return if find(bytes, b"word/document.xml").is_some() {
            Content::Docx
        } else {
            Content::Zip
        };
    }
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    if !utf16 && head.contains(&0) {
        return Content::Binary;
    }
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let start = lower.trim_start_matches('\u{feff}').trim_start();
    if start.starts_with("<!doctype html")
        || start.starts_with("<html")
        || (start.starts_with('<')
            && ["<body", "<head", "<p>", "<div", "<title"]
                .iter()
                .any(|t| lower.contains(t)))
    {
        return Content::Html;
    }
    if looks_like_email(start) {
        return Content::Email;
    }
    Content::Text
}

/// The first lines are RFC 5322 headers, including at least one that only mail has.
fn looks_like_email(start: &str) -> bool {
    const MAIL_HEADERS: [&str; 7] = [
        "from:",
        "received:",
        "return-path:",
        "message-id:",
        "mime-version:",
        "delivered-to:",
        "x-mailer:",
    ];
    let header_block: Vec<&str> = start.lines().take_while(|l| !l.trim().is_empty()).take(40).collect();
    let is_header = |l: &&str| {
        l.starts_with([' ', '\t'])
            || l.split_once(':')
                .is_some_and(|(name, _)| !name.is_empty() && !name.contains(' '))
    };
    !header_block.is_empty()
        && header_block.iter().all(is_header)
        && header_block
            .iter()
            .any(|l| MAIL_HEADERS.iter().any(|h| l.starts_with(h)))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Formats people try that we can name in the error.
const KNOWN_UNSUPPORTED: [(&str, &str); 14] = [
    ("doc", "Word 97–2003 (.doc)"),
    ("odt", "OpenDocument text (.odt)"),
    ("rtf", "RTF"),
    ("pptx", "PowerPoint"),
    ("ppt", "PowerPoint"),
    ("xlsx", "Excel"),
    ("xls", "Excel"),
    ("epub", "EPUB"),
    ("png", "Image (.png)"),
    ("jpg", "Image (.jpg)"),
    ("jpeg", "Image (.jpeg)"),
    ("zip", "ZIP"),
    ("gz", "Compressed (.gz)"),
    ("mbox", "Mailbox (.mbox)"),
];

/// Decides the format: the content must agree with the extension when there is one.
pub(super) fn decide(bytes: &[u8], extension: Option<&str>) -> Result<Format, IngestError> {
    let content = sniff(bytes);
    let claimed = match extension {
        Some("pdf") => Some(Format::Pdf),
        Some("docx") => Some(Format::Docx),
        Some("html" | "htm" | "xhtml") => Some(Format::Html),
        Some("md" | "markdown" | "mdown" | "mkd") => Some(Format::Markdown),
        Some("txt" | "text" | "rst" | "log" | "csv" | "tsv" | "org" | "adoc" | "asciidoc") => Some(Format::Text),
        Some("eml") => Some(Format::Email),
        Some(other) => {
            if let Some((_, what)) = KNOWN_UNSUPPORTED.iter().find(|(e, _)| *e == other) {
                return Err(IngestError::Unsupported { what: (*what).into() });
            }
            None
        }
        None => None,
    };
    let mismatch = |claimed: Format| IngestError::ExtensionMismatch {
        claimed: claimed.name().into(),
        actual: content.describe().into(),
    };
    match (claimed, content) {
        (Some(Format::Pdf), Content::Pdf) => Ok(Format::Pdf),
        (Some(Format::Docx), Content::Docx) => Ok(Format::Docx),
        (Some(f @ (Format::Pdf | Format::Docx)), _) => Err(mismatch(f)),
        // A text-like name on binary content lies.
        (Some(f), Content::Pdf | Content::Docx | Content::Zip | Content::Binary) => Err(mismatch(f)),
        (Some(Format::Email), Content::Email) => Ok(Format::Email),
        (Some(Format::Email), _) => Err(mismatch(Format::Email)),
        // HTML in a .txt or a .md is still read as what it is.
        (Some(Format::Text | Format::Markdown), Content::Html) => Ok(Format::Html),
        (Some(f), _) => Ok(f),
        (None, Content::Pdf) => Ok(Format::Pdf),
        (None, Content::Docx) => Ok(Format::Docx),
        (None, Content::Html) => Ok(Format::Html),
        (None, Content::Email) => Ok(Format::Email),
        (None, Content::Text) => Ok(Format::Text),
        (None, Content::Zip) => Err(IngestError::Unsupported { what: "ZIP".into() }),
        (None, Content::Binary) => Err(IngestError::Unsupported {
            what: match extension {
                Some(e) => format!(".{e}"),
                None => "Binary".into(),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_and_lying_names_are_refused() {
        assert_eq!(decide(b"%PDF-1.7\n", Some("pdf")), Ok(Format::Pdf));
        assert_eq!(decide(b"%PDF-1.7\n", None), Ok(Format::Pdf));
        assert!(matches!(
            decide(b"<!DOCTYPE html><html></html>", Some("pdf")),
            Err(IngestError::ExtensionMismatch { .. })
        ));
        assert!(matches!(
            decide(b"%PDF-1.4", Some("txt")),
            Err(IngestError::ExtensionMismatch { .. })
        ));
        assert_eq!(decide(b"<html><body>x</body></html>", Some("txt")), Ok(Format::Html));
        assert_eq!(decide(b"# Title\n\ntext", Some("md")), Ok(Format::Markdown));
        assert_eq!(decide(b"From: a@b.c\nSubject: hi\n\nbody", None), Ok(Format::Email));
        assert!(matches!(
            decide(b"hello, not mail", Some("eml")),
            Err(IngestError::ExtensionMismatch { .. })
        ));
        assert!(matches!(
            decide(b"\x00\x01\x02", None),
            Err(IngestError::Unsupported { .. })
        ));
        assert!(matches!(
            decide(b"x", Some("odt")),
            Err(IngestError::Unsupported { .. })
        ));
        assert_eq!(decide(b"Subject line: not mail\nplain", None), Ok(Format::Text));
    }
}
