//! The new part of a message: what a person reads of a reply. Quoted history (`>` lines,
//! which is also how HTML `<blockquote>` comes out of html-to-text), the "On …, X wrote:"
//! line above it, Outlook's header block of the message replied to and the signature are
//! skipped, so the model spends its token budget on what this message says rather than
//! on the thread. A forward is all content: it is left whole.

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

/// Outlook and most clients start a quoted message with a "From:" line followed by its
/// date or "Sent:" line, in the user's language.
const FROM_LABELS: [&str; 9] = ["From:", "Da:", "De:", "Von:", "Van:", "Från:", "Fra:", "Od:", "От:"];
const SENT_LABELS: [&str; 16] = [
    "Sent:",
    "Date:",
    "Inviato:",
    "Data:",
    "Envoyé :",
    "Envoyé:",
    "Date :",
    "Gesendet:",
    "Datum:",
    "Enviado:",
    "Enviado el:",
    "Fecha:",
    "Verzonden:",
    "Skickat:",
    "Sendt:",
    "Отправлено:",
];

/// Subject prefixes that mark a forward, in the languages mail clients write them in
/// (`I:` is Italian Outlook's, `WG:` German, `TR:` French, `RV:` Spanish, `ENC:` Portuguese).
const FORWARD_PREFIXES: [&str; 12] = [
    "fw:", "fwd:", "tr:", "wg:", "i:", "rv:", "enc:", "doorst:", "vs:", "vb:", "vl:", "pd:",
];

/// Whether a subject says the message forwards another one.
pub fn is_forward(subject: &str) -> bool {
    let s = subject.trim_start().trim_start_matches('[').to_lowercase();
    FORWARD_PREFIXES.iter().any(|p| s.starts_with(p))
}

/// `body` without quoted history and signature; `body` itself for a forward, when there is
/// nothing to leave out, or when nothing but quotes would be left.
pub fn new_text(body: &str, forward: bool) -> Cow<'_, str> {
    if forward {
        return Cow::Borrowed(body);
    }
    let lines: Vec<&str> = body.lines().collect();
    let quoted = |i: usize| lines.get(i).is_some_and(|l| l.trim_start().starts_with('>'));
    let next_text = |from: usize| (from..lines.len()).find(|&j| !lines[j].trim().is_empty());
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    let mut changed = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if is_signature(line) {
            changed = true;
            break;
        }
        if is_original_message(trimmed, &lines[i + 1..]) {
            // With the rule Outlook draws above its header block.
            while out.last().is_some_and(|l| is_rule(l.trim())) {
                out.pop();
            }
            if !out.is_empty() {
                out.push("");
            }
            out.push(QUOTE_MARKER);
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

/// Blank, or a line drawn with underscores or dashes.
fn is_rule(line: &str) -> bool {
    line.chars().all(|c| c == '_' || c == '-')
}

/// RFC 3676's separator (`-- `); many clients drop its trailing space.
fn is_signature(line: &str) -> bool {
    line == "-- " || line == "--"
}

/// Where the message replied to starts, unquoted: Outlook's "-----Original Message-----"
/// or its header block ("From: …" then "Sent: …" within two lines, bold markers and a
/// rule above it allowed).
fn is_original_message(line: &str, next: &[&str]) -> bool {
    if line.starts_with("---") && line.trim_matches('-').trim().eq_ignore_ascii_case("Original Message") {
        return true;
    }
    let label = |l: &str, labels: &[&str]| {
        let l = l.trim().trim_start_matches('*');
        labels.iter().any(|p| l.starts_with(p))
    };
    label(line, &FROM_LABELS) && next.iter().take(2).any(|n| label(n, &SENT_LABELS))
}

#[cfg(test)]
mod tests {
    use super::{is_forward, new_text, QUOTE_MARKER};

    #[test]
    fn a_top_posted_reply_keeps_only_its_own_text() {
        let body = "Sounds good, see you at 10.\n\nOn Tue, 3 Jun 2025 at 09:12, Bob <bob@example.org> wrote:\n> Can we meet tomorrow?\n>\n> > Earlier still\n> Bob\n";
        assert_eq!(
            new_text(body, false),
            format!("Sounds good, see you at 10.\n\n{QUOTE_MARKER}")
        );
    }

    #[test]
    fn interleaved_answers_stay_and_each_quote_becomes_one_marker() {
        let body = "> Can you send the report?\n\nYes, attached.\n\n> And the invoice?\n> It was due.\n\nFriday.\n";
        assert_eq!(
            new_text(body, false),
            format!("{QUOTE_MARKER}\n\nYes, attached.\n\n{QUOTE_MARKER}\n\nFriday.")
        );
    }

    #[test]
    fn signatures_and_outlook_originals_are_cut() {
        assert_eq!(new_text("Thanks!\n-- \nAnn\n+1 555 0100\n", false), "Thanks!");
        let outlook = "Approved.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\n\nPlease approve.";
        let approved = format!("Approved.\n\n{QUOTE_MARKER}");
        assert_eq!(new_text(outlook, false), approved);
        let spaced = outlook.replace("-----Original Message-----", "----- Original Message -----");
        assert_eq!(new_text(&spaced, false), approved);
        let rule = format!("Approved.\n\n{}\nFrom: Bob\nSent: Monday", "_".repeat(32));
        assert_eq!(new_text(&rule, false), approved);
        // Italian Outlook, bold labels as html-to-text writes them.
        let italian = "Va bene.\n \n**Da:** Anna [mailto:anna@example.it]\n**Inviato:** venerdì 9 giugno\nOggetto: Ordine\n\nCiao";
        assert_eq!(new_text(italian, false), format!("Va bene.\n\n{QUOTE_MARKER}"));
    }

    #[test]
    fn a_forward_is_content() {
        assert!(is_forward("Fwd: contract") && is_forward("I: Ordine") && is_forward("[Fwd: x]"));
        assert!(!is_forward("Re: Fwd: contract") && !is_forward("Invoice") && !is_forward("Idea"));
        let body = "FYI\n\n---------- Forwarded message ---------\nFrom: Bob\nDate: Mon\n\n> quoted\nThe contract.";
        assert_eq!(new_text(body, true), body);
    }

    #[test]
    fn plain_messages_and_bare_forwards_are_left_alone() {
        let plain = "Hello,\n\nthe build is green -- finally.\nA > B in this table.\n";
        assert!(matches!(new_text(plain, false), std::borrow::Cow::Borrowed(_)));
        let forward = "> only quoted text\n> nothing else\n";
        assert_eq!(new_text(forward, false), forward);
        // "wrote:" without a quote under it is the message's own words.
        let said = "As the manual wrote:\nrestart it.";
        assert_eq!(new_text(said, false), said);
    }
}
