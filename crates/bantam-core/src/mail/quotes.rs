//! The new part of a message: what a person reads of a reply. Quoted history (`>` lines,
//! which is also how HTML `<blockquote>` comes out of html-to-text), the "On …, X wrote:"
//! line above it, Outlook's original-message block and the signature are skipped, so the
//! model spends its token budget on what this message says rather than on the thread.

use std::borrow::Cow;

/// Stands where quoted lines were, so the model still knows the message is a reply.
pub const QUOTE_MARKER: &str = "[quoted earlier message left out]";

/// Attribution lines end like this in the languages mail clients write them in.
const ATTRIBUTIONS: [&str; 7] = [
    "wrote:",
    "écrit :",
    "écrit\u{a0}:",
    "écrit:",
    "schrieb:",
    "escribió:",
    "scritto:",
];

/// `body` without quoted history and signature; `body` itself when there is none, or when
/// nothing but quotes would be left (a bare forward is all quote and still the content).
pub fn new_text(body: &str) -> Cow<'_, str> {
    let lines: Vec<&str> = body.lines().collect();
    let quoted = |i: usize| lines.get(i).is_some_and(|l| l.trim_start().starts_with('>'));
    let next_text = |from: usize| (from..lines.len()).find(|&j| !lines[j].trim().is_empty());
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    let mut changed = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if is_signature(line) || is_original_message(trimmed, lines.get(i + 1).map(|l| l.trim())) {
            changed = true;
            break;
        }
        let attribution = ATTRIBUTIONS.iter().any(|a| trimmed.ends_with(a)) && next_text(i + 1).is_some_and(quoted);
        if quoted(i) || attribution {
            // The whole block: quoted lines and the blank lines between them.
            let mut end = i + 1;
            while let Some(j) = next_text(end).filter(|&j| quoted(j)) {
                end = j + 1;
            }
            while out.last().is_some_and(|l| l.trim().is_empty()) {
                out.pop();
            }
            if !out.is_empty() {
                out.push("");
            }
            out.push(QUOTE_MARKER);
            out.push("");
            changed = true;
            i = next_text(end).unwrap_or(lines.len());
            continue;
        }
        out.push(line);
        i += 1;
    }
    if !changed {
        return Cow::Borrowed(body);
    }
    let text = out.join("\n");
    let text = text.trim();
    if text.is_empty() || text == QUOTE_MARKER {
        Cow::Borrowed(body)
    } else {
        Cow::Owned(text.to_string())
    }
}

/// RFC 3676's separator (`-- `); many clients drop its trailing space.
fn is_signature(line: &str) -> bool {
    line == "-- " || line == "--"
}

/// Outlook puts the message replied to under a rule and a `From:` line, unquoted.
fn is_original_message(line: &str, next: Option<&str>) -> bool {
    let squeezed: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    squeezed.eq_ignore_ascii_case("-----OriginalMessage-----")
        || (line.len() >= 20 && line.chars().all(|c| c == '_') && next.is_some_and(|n| n.starts_with("From:")))
}

#[cfg(test)]
mod tests {
    use super::{new_text, QUOTE_MARKER};

    #[test]
    fn a_top_posted_reply_keeps_only_its_own_text() {
        let body = "Sounds good, see you at 10.\n\nOn Tue, 3 Jun 2025 at 09:12, Bob <bob@example.org> wrote:\n> Can we meet tomorrow?\n>\n> > Earlier still\n> Bob\n";
        assert_eq!(new_text(body), format!("Sounds good, see you at 10.\n\n{QUOTE_MARKER}"));
    }

    #[test]
    fn interleaved_answers_stay_and_each_quote_becomes_one_marker() {
        let body = "> Can you send the report?\n\nYes, attached.\n\n> And the invoice?\n> It was due.\n\nFriday.\n";
        assert_eq!(
            new_text(body),
            format!("{QUOTE_MARKER}\n\nYes, attached.\n\n{QUOTE_MARKER}\n\nFriday.")
        );
    }

    #[test]
    fn signatures_and_outlook_originals_are_cut() {
        assert_eq!(new_text("Thanks!\n-- \nAnn\n+1 555 0100\n"), "Thanks!");
        let outlook = "Approved.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\n\nPlease approve.";
        assert_eq!(new_text(outlook), "Approved.");
        let rule = format!("Approved.\n\n{}\nFrom: Bob\nSent: Monday", "_".repeat(32));
        assert_eq!(new_text(&rule), "Approved.");
    }

    #[test]
    fn plain_messages_and_bare_forwards_are_left_alone() {
        let plain = "Hello,\n\nthe build is green -- finally.\nA > B in this table.\n";
        assert!(matches!(new_text(plain), std::borrow::Cow::Borrowed(_)));
        let forward = "> only quoted text\n> nothing else\n";
        assert_eq!(new_text(forward), forward);
        // "wrote:" without a quote under it is the message's own words.
        let said = "As the manual wrote:\nrestart it.";
        assert_eq!(new_text(said), said);
    }
}
