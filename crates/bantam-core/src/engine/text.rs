//! Turning token pieces into streamed text: whole UTF-8 characters only, and nothing that
//! might turn out to be the start of a stop string.

/// Collects token bytes and releases complete UTF-8 text.
#[derive(Debug, Default)]
pub(crate) struct Utf8Buffer {
    pending: Vec<u8>,
}

impl Utf8Buffer {
    /// Appends bytes and moves every complete character into `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut String) {
        self.pending.extend_from_slice(bytes);
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    // SAFETY-free: from_utf8 just told us this prefix is valid.
                    out.push_str(std::str::from_utf8(&self.pending[..valid]).unwrap_or_default());
                    match e.error_len() {
                        // Incomplete character at the end: wait for the next token.
                        None => {
                            self.pending.drain(..valid);
                            return;
                        }
                        // Invalid bytes: replace them and go on.
                        Some(len) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + len);
                        }
                    }
                }
            }
        }
    }
}

/// Where a stop string starts in `text`, searching only what `from` onwards could touch.
pub(crate) fn find_stop(text: &str, stops: &[String], from: usize) -> Option<usize> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let start = from.saturating_sub(s.len()).min(text.len());
            let start = (0..=start).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            text[start..].find(s.as_str()).map(|i| start + i)
        })
        .min()
}

/// Length of the longest suffix of `text` that is a proper prefix of a stop string: that
/// much must be held back until we know whether the stop string completes.
pub(crate) fn held_back(text: &str, stops: &[String]) -> usize {
    let mut held = 0;
    for stop in stops {
        for k in (1..stop.len()).rev() {
            if k <= held {
                break;
            }
            if text.len() >= k
                && text.is_char_boundary(text.len() - k)
                && stop.as_bytes().starts_with(&text.as_bytes()[text.len() - k..])
            {
                held = k;
                break;
            }
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_waits_for_whole_characters() {
        let mut buf = Utf8Buffer::default();
        let mut out = String::new();
        let bytes = "é✓".as_bytes();
        buf.push(&bytes[..1], &mut out);
        assert_eq!(out, "");
        buf.push(&bytes[1..3], &mut out);
        assert_eq!(out, "é");
        buf.push(&bytes[3..], &mut out);
        assert_eq!(out, "é✓");
        buf.push(&[0xff, b'a'], &mut out);
        assert_eq!(out, "é✓\u{fffd}a");
    }

    #[test]
    fn stop_strings_are_found_and_held_back() {
        let stops = vec!["</end>".to_string(), "STOP".to_string()];
        assert_eq!(held_back("hello </e", &stops), 3);
        assert_eq!(held_back("hello ST", &stops), 2);
        assert_eq!(held_back("hello", &stops), 0);
        assert_eq!(find_stop("abc</end>xyz", &stops, 5), Some(3));
        assert_eq!(find_stop("abc", &stops, 0), None);
        assert_eq!(find_stop("aSTOP STOP", &stops, 10), Some(6));
    }
}
