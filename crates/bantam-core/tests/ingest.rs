//! Extraction from real documents written by others (the corpus from Debian's
//! documentation packages and PyPI source packages) and from hostile files, then
//! chunking with the test model's real tokenizer.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bantam_core::engine::Tokenizer;
use bantam_core::ingest::{self, Chunker, Format, IngestError, TokenCounter};
use bantam_core::Error;

fn corpus(name: &str) -> PathBuf {
    common::test_corpus().join(name)
}

fn read(name: &str) -> ingest::Ingested {
    ingest::ingest_file(&corpus(name), ingest::DEFAULT_MAX_BYTES).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn refusal(path: &Path, max_bytes: u64) -> IngestError {
    match ingest::ingest_file(path, max_bytes) {
        Err(Error::Document { source, .. }) => source,
        Err(other) => panic!("{}: expected a document error, got {other}", path.display()),
        Ok(_) => panic!("{}: expected a document error, got text", path.display()),
    }
}

#[test]
fn pdfs_give_their_text_layer_page_by_page() {
    let guide = read("maint-guide.en.pdf");
    let doc = &guide.extracted;
    assert_eq!(doc.format, Format::Pdf);
    assert_eq!(doc.pages(), Some(63));
    assert!(doc.text.contains("Debian New Maintainers"));
    assert!(doc.text.contains("dh_make"));
    // Page 1 is the title page; the chapter on dh_make comes much later.
    let dh_make = doc.text.find("dh_make").expect("dh_make");
    assert!(doc.page_at(dh_make).expect("paged") > 1);
    assert_eq!(guide.sha256.len(), 64);
    assert!(guide.words > 20_000, "{} words", guide.words);

    let fhs = read("fhs-3.0.pdf");
    assert!(fhs.extracted.text.contains("Filesystem Hierarchy Standard"));
    assert!(fhs.extracted.text.contains("/usr/local"));
    let faq = read("debian-faq.en.pdf");
    assert!(faq.extracted.text.contains("Debian GNU/Linux FAQ"));
}

#[test]
fn html_keeps_the_article_and_drops_navigation() {
    let faq = read("debian-faq-basic-defs.en.html");
    let text = &faq.extracted.text;
    assert_eq!(faq.extracted.format, Format::Html);
    assert!(text.contains("What is this FAQ?"), "{text:.300}");
    assert!(text.contains("Ian Murdock"));
    // The footer's link to the next chapter is navigation, not content.
    assert!(!text.contains("Getting and installing Debian"));
    assert!(text.contains("## 1.1"), "headings stay headings: {text:.200}");
    assert_eq!(
        faq.extracted.hints.title.as_deref(),
        Some("Chapter 1. Definitions and overview")
    );
}

#[test]
fn text_markdown_docx_and_email() {
    let txt = read("debian-faq.en.txt");
    assert_eq!(txt.extracted.format, Format::Text);
    assert!(txt.extracted.text.contains("Copyright © 1996"));

    let md = read("python-docx-README.md");
    assert_eq!(md.extracted.format, Format::Markdown);
    assert_eq!(md.extracted.hints.title.as_deref(), Some("python-docx"));

    let styles = read("par-known-styles.docx");
    assert!(
        styles.extracted.text.contains("# Heading 1"),
        "{}",
        styles.extracted.text
    );
    assert!(styles.extracted.text.contains("Body Text"));
    let tables = read("blk-paras-and-tables.docx");
    assert!(tables.extracted.text.contains("Lorem ipsum dolor sit amet"));
    assert!(tables.extracted.text.contains("Text before"));
    assert!(!tables.extracted.text.contains("|  |"), "empty cells are dropped");

    let mail = read("mail_test_3.eml");
    assert_eq!(mail.extracted.format, Format::Email);
    assert_eq!(mail.extracted.hints.title.as_deref(), Some("Hi there"));
    assert!(mail
        .extracted
        .text
        .contains("From: Ava Oneil <Oneil.844@randtelekom.com.tr>"));
    assert!(mail.extracted.text.contains("Attachments: message.txt"));
    assert!(mail.extracted.text.contains("bills of the goods"));
    // Encoded-word subject in Cyrillic, decoded.
    let russian = read("mail_test_1.eml");
    assert_eq!(russian.extracted.hints.title.as_deref(), Some("письмо уведом-е"));
}

#[test]
fn hostile_files_get_typed_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    };
    let pdf = std::fs::read(corpus("maint-guide.en.pdf")).expect("pdf");
    let html = std::fs::read(corpus("debian-faq-basic-defs.en.html")).expect("html");

    assert_eq!(refusal(&write("empty.pdf", b""), u64::MAX), IngestError::Empty);
    assert!(matches!(
        refusal(&write("page.pdf", &html), u64::MAX),
        IngestError::ExtensionMismatch { .. }
    ));
    assert!(matches!(
        refusal(&write("guide.docx", &pdf), u64::MAX),
        IngestError::ExtensionMismatch { .. }
    ));
    // A real Outlook .msg saved with an .eml name.
    assert!(matches!(
        refusal(&corpus("mail_outlook_1.eml"), u64::MAX),
        IngestError::ExtensionMismatch { .. }
    ));
    assert!(matches!(
        refusal(&write("photo.png", b"\x89PNG\r\n\x1a\n\0\0"), u64::MAX),
        IngestError::Unsupported { .. }
    ));
    assert!(matches!(
        refusal(&write("noise", &[0u8, 159, 146, 150, 0, 1]), u64::MAX),
        IngestError::Unsupported { .. }
    ));
    assert_eq!(
        refusal(&corpus("maint-guide.en.pdf"), 1000),
        IngestError::TooLarge {
            size: pdf.len() as u64,
            limit: 1000
        }
    );
    assert_eq!(refusal(&corpus("doc-coreprops.docx"), u64::MAX), IngestError::NoText);
    // Cut in half: the cross-reference table and half the objects are gone.
    match ingest::ingest_file(&write("cut.pdf", &pdf[..pdf.len() / 2]), u64::MAX) {
        Err(Error::Document {
            source: IngestError::Corrupt { .. } | IngestError::NoTextLayer { .. },
            ..
        }) => {}
        // lopdf can rebuild a lost xref; then whatever pages survive must be real text.
        Ok(doc) => assert!(doc.extracted.text.contains("Debian")),
        Err(other) => panic!("truncated PDF: {other}"),
    }
    assert!(matches!(
        refusal(&write("zip.docx", b"PK\x03\x04garbage"), u64::MAX),
        IngestError::ExtensionMismatch { .. }
    ));
}

#[test]
fn image_only_and_encrypted_pdfs() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A well-formed PDF whose one page only paints a rectangle: what a scan looks like.
    let scan = dir.path().join("scan.pdf");
    std::fs::write(&scan, minimal_pdf(b"0 0 1 rg 10 10 200 200 re f")).expect("write");
    assert_eq!(refusal(&scan, u64::MAX), IngestError::NoTextLayer { pages: 1 });
    let text = dir.path().join("text.pdf");
    std::fs::write(&text, minimal_pdf(b"BT /F1 24 Tf 72 700 Td (Hello ingest) Tj ET")).expect("write");
    let hello = ingest::ingest_file(&text, u64::MAX).expect("a one-page text PDF");
    assert!(
        hello.extracted.text.contains("Hello ingest"),
        "{:?}",
        hello.extracted.text
    );

    let qpdf = |user: &str, out: &str| {
        let out = dir.path().join(out);
        let status = Command::new("qpdf")
            .args(["--encrypt", user, "owner-secret", "256", "--"])
            .arg(corpus("fhs-3.0.pdf"))
            .arg(&out)
            .status()
            .expect("qpdf is installed (scripts/install-deps.sh --test)");
        assert!(status.success());
        out
    };
    assert_eq!(
        refusal(&qpdf("user-secret", "locked.pdf"), u64::MAX),
        IngestError::Encrypted
    );
    // Only an owner password (restrictions, no password to open): readers open it, so do we.
    let open = ingest::ingest_file(&qpdf("", "restricted.pdf"), u64::MAX).expect("owner-only encryption opens");
    assert!(open.extracted.text.contains("Filesystem Hierarchy Standard"));
}

/// A one-page PDF with the given content stream, with a correct xref table.
fn minimal_pdf(content: &[u8]) -> Vec<u8> {
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
           /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_vec(),
        [
            format!("<< /Length {} >>\nstream\n", content.len()).into_bytes(),
            content.to_vec(),
            b"\nendstream".to_vec(),
        ]
        .concat(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend(body);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    out
}

#[test]
fn chunks_fit_the_real_tokenizer_and_keep_their_place() {
    let tokenizer = Tokenizer::load(&common::test_model()).expect("tokenizer");
    let chunker = Chunker {
        max_tokens: 256,
        overlap_tokens: 16,
    };

    let pdf = read("maint-guide.en.pdf").extracted;
    let chunks = chunker.chunk(&pdf, &tokenizer);
    assert!(chunks.len() > 40, "{} chunks", chunks.len());
    for c in &chunks {
        assert!(c.tokens <= 256, "chunk {} has {} tokens", c.index, c.tokens);
        assert_eq!(c.tokens, tokenizer.count(&c.text));
        assert_eq!(&pdf.text[c.start..c.end], c.text);
    }
    assert_eq!(chunks.first().and_then(|c| c.page_start), Some(1));
    assert_eq!(chunks.last().and_then(|c| c.page_end), Some(63));
    // The document is tokenized once and slices counted by lookup; chunks come out
    // nearly as full as when every candidate slice is tokenized on its own.
    assert!(
        tokenizer.token_starts(&pdf.text).is_some(),
        "SmolLM2's pieces add up to the text"
    );
    struct SliceBySlice<'a>(&'a Tokenizer);
    impl TokenCounter for SliceBySlice<'_> {
        fn count(&self, text: &str) -> usize {
            self.0.count(text)
        }
    }
    let exact = chunker.chunk(&pdf, &SliceBySlice(&tokenizer));
    assert!(exact.iter().all(|c| c.tokens <= 256));
    assert!(
        chunks.len() * 100 <= exact.len() * 105,
        "{} chunks by lookup, {} slice by slice",
        chunks.len(),
        exact.len()
    );
    assert!(chunks.windows(2).all(|w| w[0].page_start <= w[1].page_start));

    let html = read("debian-faq-basic-defs.en.html").extracted;
    let chunks = chunker.chunk(&html, &tokenizer);
    let pronounce = chunks
        .iter()
        .find(|c| c.text.contains("Deb'-ee-en"))
        .expect("the pronunciation answer");
    assert!(
        pronounce
            .heading_path
            .iter()
            .any(|h| h.contains("How does one pronounce Debian")),
        "{:?}",
        pronounce.heading_path
    );
    // Overlap: consecutive chunks share a little text.
    assert!(chunks.windows(2).any(|w| w[1].start < w[0].end));
}
