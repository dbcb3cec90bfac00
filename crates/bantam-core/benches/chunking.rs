//! Token-aware chunking of a long real document with the model's own tokenizer, as the
//! document summary's map stage cuts it (`bench --summary`, 512-token chunks).
//!
//! `cargo bench -p bantam-core --bench chunking` (needs the test model and the corpus:
//! `models/fetch-test-model.sh`, `scripts/fetch-corpus.sh`).

use bantam_core::engine::Tokenizer;
use bantam_core::ingest::{self, Chunker};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench_chunking(c: &mut Criterion) {
    let tokenizer = Tokenizer::load(&bantam_testkit::test_model()).expect("load the test model's vocabulary");
    let mut group = c.benchmark_group("chunk");
    group.sample_size(10);
    for file in ["fhs-3.0.pdf", "debian-faq-basic-defs.en.html"] {
        let path = bantam_testkit::corpus_dir().join(file);
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}: run scripts/fetch-corpus.sh", path.display()));
        let extension = path.extension().and_then(|e| e.to_str());
        let doc = ingest::extract(&bytes, extension).expect("extract");
        group.throughput(Throughput::Bytes(doc.text.len() as u64));
        let chunker = Chunker {
            max_tokens: 512,
            ..Chunker::default()
        };
        assert!(
            chunker.chunk(&doc, &tokenizer).len() > 1,
            "{file} should need several chunks"
        );
        group.bench_function(file, |b| b.iter(|| chunker.chunk(&doc, &tokenizer)));
    }
    group.finish();
}

criterion_group!(benches, bench_chunking);
criterion_main!(benches);
