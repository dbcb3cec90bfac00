//! PDF text layer, page by page: lopdf parses (and opens PDFs that are encrypted with an
//! empty user password, as readers do), pdf-extract lays out each page's text.

use lopdf::{Document, Object};

use super::{clean, text::normalize, Extracted, Format, Hints, IngestError};

pub(super) fn extract(bytes: &[u8]) -> Result<Extracted, IngestError> {
    let mut doc = Document::load_mem(bytes).map_err(load_error)?;
    if doc.is_encrypted() {
        doc.decrypt("").map_err(|_| IngestError::Encrypted)?;
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(corrupt("it has no pages"));
    }
    let mut text = String::new();
    let mut page_starts = Vec::with_capacity(pages.len());
    for &number in pages.keys() {
        let mut page = String::new();
        // A page that fails to lay out loses its text, not the document's.
        if let Err(e) = pdf_extract::output_doc_page(&doc, &mut pdf_extract::PlainTextOutput::new(&mut page), number) {
            tracing::warn!("PDF page {number}: {e}");
        }
        if !text.is_empty() {
            // Three newlines: a page break outranks a paragraph break for the chunker.
            text.push_str("\n\n\n");
        }
        page_starts.push(text.len());
        text.push_str(normalize(&page).trim());
    }
    Ok(Extracted {
        format: Format::Pdf,
        text: if text.trim().is_empty() { String::new() } else { text },
        page_starts,
        hints: info(&doc),
    })
}

fn load_error(e: lopdf::Error) -> IngestError {
    match e {
        lopdf::Error::Decryption(_) => IngestError::Encrypted,
        lopdf::Error::InvalidPassword => IngestError::Encrypted,
        other => corrupt(&other.to_string()),
    }
}

fn corrupt(reason: &str) -> IngestError {
    IngestError::Corrupt {
        format: "PDF".into(),
        reason: reason.into(),
    }
}

/// Title, author and creation date from the document information dictionary.
fn info(doc: &Document) -> Hints {
    let Some(dict) = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| o.as_reference().ok())
        .and_then(|id| doc.get_dictionary(id).ok())
    else {
        return Hints::default();
    };
    let field = |key: &[u8]| match dict.get(key) {
        Ok(Object::String(bytes, _)) => clean(Some(text_string(bytes))),
        _ => None,
    };
    Hints {
        title: field(b"Title"),
        authors: field(b"Author").into_iter().collect(),
        date: field(b"CreationDate").and_then(|d| pdf_date(&d)),
        language: None,
    }
}

/// PDF text strings are UTF-16BE with a BOM, or PDFDocEncoding (Latin-1 for our purposes).
fn text_string(bytes: &[u8]) -> String {
    match bytes.strip_prefix(&[0xFE, 0xFF]) {
        Some(utf16) => {
            let units: Vec<u16> = utf16
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        None => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// `D:20240131…` → `2024-01-31`.
fn pdf_date(raw: &str) -> Option<String> {
    let digits: String = raw.trim_start_matches("D:").chars().take(8).collect();
    if digits.len() < 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(match digits.len() {
        8 => format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..8]),
        6 | 7 => format!("{}-{}", &digits[..4], &digits[4..6]),
        _ => digits[..4].to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_strings() {
        assert_eq!(pdf_date("D:20240131120000Z").as_deref(), Some("2024-01-31"));
        assert_eq!(pdf_date("D:2019").as_deref(), Some("2019"));
        assert_eq!(pdf_date("yesterday"), None);
        assert_eq!(text_string(&[0xFE, 0xFF, 0, b'h', 0, 0xE9]), "hé");
    }
}
