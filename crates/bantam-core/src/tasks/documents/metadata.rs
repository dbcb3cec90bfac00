//! Metadata: the file's own facts (title, authors, date, language) over what the model
//! extracts under a JSON schema from the document's beginning, plus computed facts.

use super::prompts::sampling;
use super::{DocumentMetadata, DocumentService, ExtractedMetadata, IngestedDocument};
use crate::engine::{ChatMessage, Priority, Request};
use crate::error::{Error, Result};
use crate::ingest::{Hints, TokenCounter};
use crate::store::{StoredChunk, StoredDocument};
use crate::tasks::prompt::{neutralize, DOCUMENT_IS_DATA};

/// can't run away inside a string.
pub fn metadata_schema() -> serde_json::Value {
    let list = |max_items: usize, max_len: usize| serde_json::json!({"type": "array", "items": {"type": "string", "maxLength": max_len}, "maxItems": max_items});
    serde_json::json!({
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 150},
            "authors": list(5, 80),
            "dates": list(5, 40),
            "document_type": {"enum": ["invoice", "contract", "paper", "letter", "report", "manual", "article",
                                       "email", "notes", "other"]},
            "language": {"type": "string", "maxLength": 20},
            "people": list(8, 80),
            "organizations": list(8, 80),
            "places": list(8, 80),
            "key_numbers": list(8, 80),
            // A point is a sentence: SmolLM2-135M filled the three points the schema
            // asks for with empty strings on this machine's CPU when it could.
            "key_points": {"type": "array", "items": {"type": "string", "minLength": 8, "maxLength": 240},
                           "minItems": 3, "maxItems": 7}
        },
        "required": ["title", "authors", "dates", "document_type", "language", "people", "organizations",
                     "places", "key_numbers", "key_points"],
        "additionalProperties": false
    })
}

impl DocumentService {
    /// The document's metadata: stored, or extracted now from its beginning.
    pub async fn metadata(&self, doc: &IngestedDocument, redo: bool) -> Result<DocumentMetadata> {
        if !redo {
            // The caller's copy may predate an extraction; the store knows.
            if let Some(stored) = stored_metadata(&self.store.document(doc.document.id).await?) {
                return Ok(stored);
            }
        }
        let context = self.head(&doc.chunks, &[]).await;
        self.extract_metadata(doc, &context).await
    }

    /// The start of the document plus any chunk summaries, cut to one chunk's budget: what
    /// the metadata is read from.
    pub(super) async fn head(&self, chunks: &[StoredChunk], summaries: &[String]) -> String {
        let budget = self.chunk_tokens();
        let mut out = chunks.first().map(|c| c.text.clone()).unwrap_or_default();
        let mut used = self.tokenizer.count(&out);
        if !summaries.is_empty() {
            out.push_str("\n\nSummaries of the rest of the document:\n");
            for s in summaries.iter().skip(1) {
                let count = self.tokenizer.count(s) + 2;
                if used + count > budget {
                    break;
                }
                used += count;
                out.push_str("- ");
                out.push_str(s);
                out.push('\n');
            }
        }
        out
    }

    pub(super) async fn extract_metadata(&self, doc: &IngestedDocument, context: &str) -> Result<DocumentMetadata> {
        let d = &doc.document;
        let request = Request::chat(vec![
            ChatMessage::system(format!(
                "You extract facts from documents and answer with JSON only. {DOCUMENT_IS_DATA}"
            )),
            ChatMessage::user(format!(
                "File name: {}\n\n<document>\n{}\n</document>\n\nExtract the title, authors, dates, document_type, \
                 language, people, organizations, places, key_numbers (amounts and figures with their units) and \
                 3 to 7 key_points (short sentences). Use [] for what the document does not say.\n\
                 document_type: contract also for licences and terms of use; manual for documentation, guides, \
                 FAQs and standards; article for essays, tutorials and HOWTOs; paper for scholarly work.",
                d.name,
                neutralize(context)
            )),
        ])
        .with_sampling(sampling(1200))
        .with_priority(Priority::Background);
        let (extracted, _): (ExtractedMetadata, _) = self.engine.complete_json(request, metadata_schema()).await?;
        let mut extracted = grounded(extracted, context);
        if is_file_name(&extracted.title, &d.name) {
            // A small model given "File name: …" answers it when the title is not marked up.
            extracted.title = first_line(context).unwrap_or_default();
        }
        let detected = detected_language(context);
        let metadata = merge_metadata(extracted, &d.hints(), detected, d, doc.chunks.len(), self.model());
        let json = serde_json::to_string(&metadata).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        self.store
            .set_document_metadata(d.id, &json, &metadata.extracted.title)
            .await?;
        Ok(metadata)
    }
}

/// What the model read must back what it says: a name (person, author, organization,
/// place) is kept only when the text has it, a date only when it has numbers and the text
/// has them.
/// Small models otherwise invent an author, or turn "1996–2021" into a full date.
fn grounded(mut m: ExtractedMetadata, source: &str) -> ExtractedMetadata {
    let text = normalized(source);
    let has = |s: &String| {
        let s = normalized(s);
        !s.is_empty() && text.contains(&s)
    };
    for list in [&mut m.authors, &mut m.people, &mut m.organizations, &mut m.places] {
        list.retain(|s| has(s));
    }
    let words: std::collections::HashSet<&str> = text.split(' ').collect();
    m.dates.retain(|d| {
        let numbers: Vec<&str> = d
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .collect();
        if numbers.is_empty() {
            // "today", "recently": words, not dates the document has.
            false
        } else {
            numbers
                .iter()
                .all(|n| words.contains(n.trim_start_matches('0')) || words.contains(n))
        }
    });
    m
}

/// Key points without the ones that say again what an earlier one said (most of their
/// words are in it): small models restate a point in other words.
fn distinct_points(points: Vec<String>) -> Vec<String> {
    let mut kept: Vec<(String, std::collections::HashSet<String>)> = Vec::new();
    for p in points {
        let words: std::collections::HashSet<String> = normalized(&p).split(' ').map(str::to_string).collect();
        let repeats = kept.iter().any(|(_, seen)| {
            let shared = words.intersection(seen).count();
            shared * 5 >= words.len().min(seen.len()) * 4
        });
        if !words.is_empty() && !repeats {
            kept.push((p, words));
        }
    }
    kept.into_iter().map(|(p, _)| p).collect()
}

/// A point the length bound cut mid-sentence ends at its last full sentence, or with "…".
fn whole_sentences(point: &str) -> String {
    let p = point.trim();
    if p.is_empty() || p.ends_with(['.', '!', '?', ')', '"']) || p.chars().count() < 200 {
        return p.to_string();
    }
    match p.rfind(". ") {
        Some(end) if end > 40 => p[..=end].to_string(),
        _ => format!("{}…", p.trim_end_matches([',', ';', ' '])),
    }
}

/// "A and B", "A & B", "A; B" → each name; a single name as it is.
fn split_names(s: &str) -> Vec<String> {
    s.split(" and ")
        .flat_map(|p| p.split(" & "))
        .flat_map(|p| p.split(';'))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Whether `title` is only the file's name (with or without its extension), or empty.
fn is_file_name(title: &str, file_name: &str) -> bool {
    let t = normalized(title);
    let stem = std::path::Path::new(file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(file_name);
    t.is_empty() || t == normalized(file_name) || t == normalized(stem)
}

/// The text's first line with words in it (a heading's `#` marks left off), if short
/// enough to be a title.
fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(|l| l.trim().trim_start_matches('#').trim())
        .find(|l| l.chars().any(char::is_alphabetic))
        .filter(|l| l.chars().count() <= 150)
        .map(str::to_string)
}

/// The language the text is written in, when a trigram detector (whatlang) is sure of
/// it. A small model asked in English often answers "en" for any text.
fn detected_language(text: &str) -> Option<String> {
    let sample: String = text.chars().take(4000).collect();
    let info = whatlang::detect(&sample)?;
    info.is_reliable().then(|| language_code(info.lang().code()))
}

/// Lower case, every run of non-alphanumerics one space: "Rodin,  Josip" ≈ "rodin josip".
pub fn normalized(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w.to_lowercase());
    }
    out
}

/// A language as its ISO 639-1 code (639-3 where it has none), whether the file said
/// `en-US` or the model said "English", "english", "Deutsch" or "deu"; anything else is
/// kept as it was, trimmed. One form, so the Documents view and a search can match on it.
pub fn language_code(language: &str) -> String {
    use isolang::Language;
    let s = language.trim();
    let primary = s.split(['-', '_']).next().unwrap_or(s).to_ascii_lowercase();
    let found = match primary.len() {
        2 => Language::from_639_1(&primary),
        3 => Language::from_639_3(&primary),
        _ => None,
    }
    .or_else(|| {
        // Autonyms are stored in their own case ("Deutsch", "français", "русский").
        let lower = s.to_lowercase();
        let mut chars = lower.chars();
        let capital: String = chars
            .next()
            .into_iter()
            .flat_map(char::to_uppercase)
            .chain(chars)
            .collect();
        Language::from_name_lowercase(&lower)
            .or_else(|| Language::from_autonym(s))
            .or_else(|| Language::from_autonym(&lower))
            .or_else(|| Language::from_autonym(&capital))
    });
    match found {
        Some(l) => l.to_639_1().unwrap_or(l.to_639_3()).to_string(),
        None => s.to_string(),
    }
}

pub(super) fn stored_metadata(doc: &StoredDocument) -> Option<DocumentMetadata> {
    doc.metadata.as_deref().and_then(|m| serde_json::from_str(m).ok())
}

fn merge_metadata(
    mut extracted: ExtractedMetadata,
    hints: &Hints,
    detected_language: Option<String>,
    doc: &StoredDocument,
    chunks: usize,
    model: &str,
) -> DocumentMetadata {
    if let Some(title) = &hints.title {
        extracted.title = title.clone();
    }
    if !hints.authors.is_empty() {
        extracted.authors = hints.authors.clone();
    }
    if let Some(date) = &hints.date {
        extracted.dates.retain(|d| d != date);
        extracted.dates.insert(0, date.clone());
    }
    if doc.format == crate::ingest::Format::Email.as_str() {
        // A mail file is a mail, whatever it carries.
        extracted.document_type = super::DocumentType::Email;
    }
    // One name per entry: "Josip Rodin and Osamu Aoki" is two authors.
    for list in [&mut extracted.authors, &mut extracted.people] {
        *list = list.iter().flat_map(|s| split_names(s)).collect();
    }
    // The file's own word first, then the detector's, then the model's.
    if let Some(language) = hints.language.clone().or(detected_language) {
        extracted.language = language;
    }
    extracted.language = language_code(&extracted.language);
    for list in [
        &mut extracted.authors,
        &mut extracted.dates,
        &mut extracted.people,
        &mut extracted.organizations,
        &mut extracted.places,
        &mut extracted.key_numbers,
        &mut extracted.key_points,
    ] {
        list.iter_mut().for_each(|s| *s = s.trim().to_string());
        list.retain(|s| !s.is_empty());
        let mut seen = std::collections::HashSet::new();
        list.retain(|s| seen.insert(s.to_lowercase()));
    }
    extracted.key_points = distinct_points(extracted.key_points.iter().map(|p| whole_sentences(p)).collect());
    extracted.title = extracted.title.trim().to_string();
    DocumentMetadata {
        extracted,
        file_name: doc.name.clone(),
        format: doc.format.clone(),
        size_bytes: doc.size_bytes as u64,
        sha256: doc.sha256.clone(),
        words: doc.words as usize,
        pages: doc.pages.map(|p| p as usize),
        chunks,
        model: model.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extracted() -> ExtractedMetadata {
        serde_json::from_value(serde_json::json!({
            "title": "Debian New Maintainers' Guide", "authors": ["Josip Rodin", "John Smith"],
            "dates": ["2021", "March 5, 2019", "1996-2021", "today"], "document_type": "manual",
            "language": "en", "people": ["Osamu Aoki", "Jane Doe"], "organizations": ["Debian"],
            "places": ["Paris"], "key_numbers": [], "key_points": ["a", "b", "c"]
        }))
        .unwrap()
    }

    #[test]
    fn a_title_that_is_the_file_name_gives_way_to_the_first_line() {
        assert!(is_file_name("debian-faq.en.txt", "debian-faq.en.txt"));
        assert!(is_file_name("Debian FAQ en", "debian-faq.en.txt"));
        assert!(is_file_name("  ", "a.txt"));
        assert!(!is_file_name("The Debian GNU/Linux FAQ", "debian-faq.en.txt"));
        assert_eq!(
            first_line("\n  \n# The Debian GNU/Linux FAQ\n---\n").as_deref(),
            Some("The Debian GNU/Linux FAQ")
        );
        assert_eq!(first_line("----\n"), None);
    }

    #[test]
    fn the_language_is_detected_from_the_text() {
        let de = "Debian ist ein Betriebssystem und eine Sammlung von Programmen, die von Freiwilligen \
                  in aller Welt gemeinsam entwickelt werden. Es ist frei und kann von jedem benutzt werden.";
        assert_eq!(detected_language(de).as_deref(), Some("de"));
        assert_eq!(detected_language("ok"), None);
    }

    #[test]
    fn restated_and_cut_key_points_are_cleaned() {
        let points = vec![
            "Debian GNU/Hurd is a set of servers running on top of the GNU Mach microkernel.".to_string(),
            "The Hurd is a set of servers running on top of the GNU Mach microkernel.".to_string(),
            "A second effort is the port to a BSD kernel.".to_string(),
        ];
        assert_eq!(distinct_points(points.clone()), [points[0].clone(), points[2].clone()]);
        let first = "Debian is a free operating system for many machines.";
        let long = format!("{first} {}and Debian,", "It has many packages ".repeat(9));
        assert_eq!(whole_sentences(&long), first);
        let cut = format!("{}and Debian,", "word ".repeat(45));
        assert!(whole_sentences(&cut).ends_with("and Debian…"));
        assert_eq!(whole_sentences("Short, unfinished"), "Short, unfinished");
    }

    #[test]
    fn names_joined_by_and_are_split() {
        assert_eq!(split_names("Josip Rodin and Osamu Aoki"), ["Josip Rodin", "Osamu Aoki"]);
        assert_eq!(split_names("A & B; C"), ["A", "B", "C"]);
        assert_eq!(split_names("Ian Murdock"), ["Ian Murdock"]);
    }

    #[test]
    fn languages_become_codes() {
        for (given, code) in [
            ("en", "en"),
            ("en-US", "en"),
            ("English", "en"),
            ("german", "de"),
            ("Deutsch", "de"),
            ("français", "fr"),
            ("deu", "de"),
            ("Русский", "ru"),
            (" Klingonish ", "Klingonish"),
            ("", ""),
        ] {
            assert_eq!(language_code(given), code, "{given}");
        }
    }

    #[test]
    fn names_and_dates_the_text_does_not_have_are_dropped() {
        let text =
            "Debian New Maintainers' Guide\nJosip  Rodin, OSAMU AOKI.\nCopyright 1996-2021, updated 2021, read today.";
        let m = grounded(extracted(), text);
        assert_eq!(m.authors, ["Josip Rodin"]);
        assert_eq!(m.people, ["Osamu Aoki"]);
        assert_eq!(m.organizations, ["Debian"]);
        assert!(m.places.is_empty());
        assert_eq!(m.dates, ["2021", "1996-2021"]);
    }
}
