//! `bantam bench search`: how long a search by meaning takes as the index grows — exact
//! cosine over every stored vector of a real SQLite file — at 1k, 10k and 100k windows:
//! the first search after a change (which reads the vectors from the file) and p50 and
//! p95 of the searches after it (vectors kept in memory). Random unit vectors of the embedding model's width
//! stand in for text: the cost is the reading and the arithmetic, not the meaning.

use std::time::Instant;

use anyhow::Result;
use bantam_core::search::{self, SearchOptions};
use bantam_core::store::{SourceKind, StoredVector};
use bantam_core::Store;
use clap::Args;
use serde::Serialize;

use crate::measure::percentile;
use crate::Output;

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Stored vectors (windows) to search, one round each
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000", value_name = "N,…")]
    pub vectors: Vec<usize>,
    /// The vectors' width (all-MiniLM-L6-v2: 384)
    #[arg(long, default_value_t = 384)]
    pub dimensions: usize,
    /// Searches per round
    #[arg(long, default_value_t = 20)]
    pub queries: usize,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Serialize)]
struct Round {
    vectors: usize,
    /// The first search after the index changed: the vectors read from the file.
    first_ms: f64,
    /// What the vectors kept in memory take.
    memory_mb: f64,
    p50_ms: f64,
    p95_ms: f64,
}

/// A deterministic pseudo-random unit vector (xorshift), so runs compare.
fn unit_vector(seed: u64, dimensions: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let v: Vec<f32> = (0..dimensions)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt();
    v.into_iter().map(|a| a / norm).collect()
}

pub async fn run(args: &SearchArgs) -> Result<u8> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("bench.sqlite3")).await?;
    let model = "bench:0";
    let options = SearchOptions {
        kinds: vec![SourceKind::Chunk],
        limit: 10,
    };
    let mut rounds = Vec::new();
    let mut stored = 0usize;
    let mut sizes = args.vectors.clone();
    sizes.sort_unstable();
    for &n in &sizes {
        // Grow the index to n windows (chunk i of document 1, window 0).
        while stored < n {
            let batch: Vec<StoredVector> = (stored..(stored + 1000).min(n))
                .map(|i| StoredVector {
                    kind: SourceKind::Chunk,
                    source_id: 1,
                    part: i as i64,
                    window: 0,
                    vector: unit_vector(i as u64, args.dimensions),
                })
                .collect();
            stored += batch.len();
            store.put_vectors(model, &batch).await?;
        }
        let started = Instant::now();
        search::nearest(&store, model, &unit_vector(u64::MAX / 2, args.dimensions), &options).await?;
        let first_ms = started.elapsed().as_secs_f64() * 1000.0;
        let memory_mb = store.vector_matrix(model).await?.bytes() as f64 / 1e6;
        let mut ms = Vec::new();
        for q in 0..args.queries.max(1) {
            let query = unit_vector(u64::MAX - q as u64, args.dimensions);
            let started = Instant::now();
            search::nearest(&store, model, &query, &options).await?;
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        let round = Round {
            vectors: n,
            first_ms,
            memory_mb,
            p50_ms: percentile(&ms, 0.5),
            p95_ms: percentile(&ms, 0.95),
        };
        if !args.out.json {
            println!(
                "{:>8} vectors   first (from the file) {:8.1} ms   then p50 {:6.1} ms   p95 {:6.1} ms   ({:.0} MB in memory)",
                n, round.first_ms, round.p50_ms, round.p95_ms, round.memory_mb
            );
        }
        rounds.push(round);
    }
    args.out.write(&rounds)?;
    Ok(0)
}
