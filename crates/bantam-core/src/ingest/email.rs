//! `.eml`: mail-parser decodes headers, MIME parts and charsets; an HTML-only body goes
//! through the same HTML path as web pages. The subject is the heading, the headers a
//! person reads come first.

use mail_parser::{Address, MessageParser, MimeHeaders};

use super::{clean, html, Extracted, Format, Hints, IngestError};

pub(super) fn extract(bytes: &[u8]) -> Result<Extracted, IngestError> {
    let message = MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| IngestError::Corrupt {
            format: "email".into(),
            reason: "no message headers could be read".into(),
        })?;
    let subject = clean(message.subject().map(str::to_string));
    let from = message.from().map(addresses).unwrap_or_default();
    let to = message.to().map(addresses).unwrap_or_default();
    let date = message.date().map(|d| d.to_rfc3339());

    // mail-parser lists an HTML part as the text body when there is no plain one.
    let html_only = !message.html_body.is_empty() && message.text_body.first() == message.html_body.first();
    let body = if html_only {
        message
            .body_html(0)
            .map(|h| html::extract(&h).map(|e| e.text))
            .transpose()?
            .unwrap_or_default()
    } else {
        message.body_text(0).map(|t| t.into_owned()).unwrap_or_default()
    };
    let attachments: Vec<String> = message
        .attachments()
        .filter_map(|a| a.attachment_name().map(str::to_string))
        .collect();

    let mut text = format!("# {}\n\n", subject.as_deref().unwrap_or("(no subject)"));
    if !from.is_empty() {
        text.push_str(&format!("From: {}\n", from.join(", ")));
    }
    if !to.is_empty() {
        text.push_str(&format!("To: {}\n", to.join(", ")));
    }
    if let Some(date) = &date {
        text.push_str(&format!("Date: {date}\n"));
    }
    if !attachments.is_empty() {
        text.push_str(&format!("Attachments: {}\n", attachments.join(", ")));
    }
    text.push('\n');
    text.push_str(super::text::normalize(&body).trim());
    if body.trim().is_empty() && attachments.is_empty() {
        return Err(IngestError::NoText);
    }
    Ok(Extracted {
        format: Format::Email,
        text,
        page_starts: Vec::new(),
        hints: Hints {
            title: subject,
            authors: message
                .from()
                .map(|a| {
                    a.iter()
                        .filter_map(|a| a.name().or(a.address()).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            date: date.map(|d| d.chars().take(10).collect()),
            language: None,
        },
    })
}

fn addresses(address: &Address) -> Vec<String> {
    address
        .iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (Some(name), None) => name.to_string(),
            (None, Some(addr)) => addr.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect()
}
