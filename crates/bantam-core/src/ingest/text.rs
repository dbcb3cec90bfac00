//! Plain text and Markdown in any common encoding.

use super::{Extracted, Format, Hints};

/// Bytes to a string: a BOM decides, then valid UTF-8, then chardetng's guess
/// (Windows-1252, Shift_JIS, GBK, …).
pub(super) fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom..]).0.into_owned();
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Deny);
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// Line endings to `\n`, and no NULs or other control characters the model can't use.
pub(super) fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\u{c}'))
        .collect()
}

pub(super) fn plain(bytes: &[u8]) -> Extracted {
    Extracted {
        format: Format::Text,
        text: normalize(&decode(bytes)),
        page_starts: Vec::new(),
        hints: Hints::default(),
    }
}

pub(super) fn markdown(bytes: &[u8]) -> Extracted {
    let text = normalize(&decode(bytes));
    // The first top-level heading is the title a reader sees.
    let title = text
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().to_string());
    Extracted {
        format: Format::Markdown,
        text,
        page_starts: Vec::new(),
        hints: Hints {
            title: super::clean(title),
            ..Hints::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_common_encodings() {
        assert_eq!(decode("café".as_bytes()), "café");
        // Windows-1252 "café résumé" has no BOM and is not UTF-8.
        assert_eq!(
            decode(b"caf\xe9 r\xe9sum\xe9 na\xefve fa\xe7ade"),
            "café résumé naïve façade"
        );
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("hé".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(decode(&utf16), "hé");
        assert_eq!(normalize("a\r\nb\0c"), "a\nbc");
    }
}
