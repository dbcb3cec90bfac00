//! DOCX: the zip crate opens the package, quick-xml streams `word/document.xml`.
//! Paragraph styles are resolved through `styles.xml` by name ("heading 2", "Title"), so
//! headings are found in any UI language; they become `#` lines for the chunker.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{clean, Extracted, Format, Hints, IngestError};

/// A zip bomb stops here: no part of a Word file we read is bigger.
const MAX_PART_BYTES: u64 = 256 * 1024 * 1024;

pub(super) fn extract(bytes: &[u8]) -> Result<Extracted, IngestError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(&e.to_string()))?;
    let document = read_part(&mut zip, "word/document.xml")?.ok_or_else(|| corrupt("word/document.xml is missing"))?;
    let styles = match read_part(&mut zip, "word/styles.xml")? {
        Some(xml) => heading_styles(&xml),
        None => HashMap::new(),
    };
    let hints = match read_part(&mut zip, "docProps/core.xml")? {
        Some(xml) => core_properties(&xml),
        None => Hints::default(),
    };
    Ok(Extracted {
        format: Format::Docx,
        text: body_text(&document, &styles)?,
        page_starts: Vec::new(),
        hints,
    })
}

fn corrupt(reason: &str) -> IngestError {
    IngestError::Corrupt {
        format: "DOCX".into(),
        reason: reason.into(),
    }
}

fn read_part(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Option<String>, IngestError> {
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(corrupt(&format!("{name}: {e}"))),
    };
    let mut xml = String::new();
    file.take(MAX_PART_BYTES)
        .read_to_string(&mut xml)
        .map_err(|e| corrupt(&format!("{name}: {e}")))?;
    Ok(Some(xml))
}

fn attr(e: &BytesStart, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Style id → heading level, from the styles' names.
fn heading_styles(xml: &str) -> HashMap<String, usize> {
    let mut map = HashMap::new();
    let mut reader = Reader::from_str(xml);
    let mut current: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "style" => current = attr(&e, "styleId"),
            Ok(Event::Empty(e)) if e.local_name().as_ref() == "name" => {
                if let (Some(id), Some(name)) = (&current, attr(&e, "val")) {
                    if let Some(level) = heading_level(&name) {
                        map.insert(id.clone(), level);
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    map
}

fn heading_level(style_name: &str) -> Option<usize> {
    let name = style_name.to_ascii_lowercase();
    if name == "title" {
        return Some(1);
    }
    let level = name.strip_prefix("heading")?.trim().parse::<usize>().ok()?;
    (1..=6).contains(&level).then_some(level)
}

/// Paragraphs as lines separated by blank lines; headings with `#`, list items with `-`,
/// table cells separated by ` | `.
fn body_text(xml: &str, styles: &HashMap<String, usize>) -> Result<String, IngestError> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut paragraph = String::new();
    let mut level: Option<usize> = None;
    let mut list_item = false;
    let mut in_text = false;
    // Inside a table, paragraphs go to the cell and cells to the row: one line per row.
    // Tables nest, so both are stacks.
    let mut cells: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| corrupt(&e.to_string()))?;
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "p" => {
                    paragraph.clear();
                    level = None;
                    list_item = false;
                }
                "pStyle" => {
                    level = attr(&e, "val").and_then(|id| {
                        styles
                            .get(&id)
                            .copied()
                            .or_else(|| heading_level(&id.replace("Heading", "heading ")))
                    })
                }
                "numPr" => list_item = true,
                "tc" => cells.push(String::new()),
                "tr" => rows.push(Vec::new()),
                "t" => in_text = true,
                "tab" => paragraph.push('\t'),
                "br" | "cr" => paragraph.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => paragraph.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    paragraph.push(c);
                } else {
                    paragraph.push_str(match r.xml10_content().as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "tc" => {
                    if let (Some(text), Some(row)) = (cells.pop(), rows.last_mut()) {
                        row.push(text.trim().to_string());
                    }
                }
                "tr" => {
                    let row: Vec<String> = rows
                        .pop()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|c| !c.is_empty())
                        .collect();
                    if !row.is_empty() {
                        let line = row.join(" | ");
                        match cells.last_mut() {
                            Some(outer) => {
                                outer.push_str(if outer.is_empty() { "" } else { " " });
                                outer.push_str(&line);
                            }
                            None => {
                                out.push_str(&line);
                                out.push_str("\n\n");
                            }
                        }
                    }
                }
                "p" => {
                    let text = paragraph.trim();
                    if let Some(cell) = cells.last_mut() {
                        if !text.is_empty() {
                            cell.push_str(if cell.is_empty() { "" } else { " " });
                            cell.push_str(text);
                        }
                    } else if !text.is_empty() {
                        match (level, list_item) {
                            (Some(n), _) => {
                                out.push_str(&"#".repeat(n));
                                out.push(' ');
                            }
                            (None, true) => out.push_str("- "),
                            _ => {}
                        }
                        out.push_str(text);
                        out.push_str(if list_item { "\n" } else { "\n\n" });
                    }
                    paragraph.clear();
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out.trim_end().to_string())
}

/// Title, creator, created date and language from `docProps/core.xml`.
fn core_properties(xml: &str) -> Hints {
    let mut reader = Reader::from_str(xml);
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => current = Some(e.local_name().as_ref().to_string()),
            Ok(Event::Text(t)) => {
                if let Some(name) = &current {
                    fields.entry(name.clone()).or_default().push_str(&t.xml10_content());
                }
            }
            Ok(Event::End(_)) => current = None,
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    Hints {
        title: clean(fields.remove("title")),
        authors: clean(fields.remove("creator")).into_iter().collect(),
        date: clean(fields.remove("created")).map(|d| d.chars().take(10).collect()),
        language: clean(fields.remove("language")),
    }
}
