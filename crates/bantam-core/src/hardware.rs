//! What this machine has for a model: memory, CPU threads, and the GPUs the built-in
//! llama.cpp backend can use (with their memory where the backend reports it).

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Gpu {
    pub name: String,
    pub description: String,
    /// The llama.cpp backend that drives it: `CUDA`, `Metal`, `Vulkan`, …
    pub backend: String,
    pub memory_total: u64,
    pub memory_free: u64,
    /// Shares system memory (Apple Silicon, most laptop iGPUs).
    pub integrated: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Hardware {
    pub total_ram: u64,
    /// What can be had now without swapping (free plus reclaimable cache).
    pub available_ram: u64,
    pub cpu_threads: usize,
    /// The GPU backend compiled in (`metal`, `cuda`, `vulkan`), or `cpu`.
    pub backend: &'static str,
    pub gpus: Vec<Gpu>,
}

impl Hardware {
    /// This machine's memory and threads, with `gpus` as the engine's backend lists them
    /// ([`crate::engine::gpus`]).
    pub fn detect(gpus: Vec<Gpu>) -> Self {
        // An unreadable memory count reads as 0: every model then shows as too big
        // rather than as fitting when it may not.
        let (total_ram, available_ram) = match sysinfo::System::new() {
            Ok(mut system) => {
                system.refresh_memory();
                (system.total_memory(), system.available_memory())
            }
            Err(e) => {
                tracing::warn!("could not read the memory size: {e}");
                (0, 0)
            }
        };
        Self {
            total_ram,
            available_ram,
            cpu_threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            backend: compiled_backend(),
            gpus,
        }
    }

    /// The GPU with the most free memory, if any.
    pub fn best_gpu(&self) -> Option<&Gpu> {
        self.gpus.iter().max_by_key(|g| g.memory_free)
    }
}

pub(crate) fn compiled_backend() -> &'static str {
    if cfg!(feature = "cuda") {
        "cuda"
    } else if cfg!(feature = "metal") {
        "metal"
    } else if cfg!(feature = "vulkan") {
        "vulkan"
    } else {
        "cpu"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_this_machine() {
        let hw = Hardware::detect(crate::engine::gpus());
        assert!(hw.total_ram > 256 << 20, "{hw:?}");
        assert!(hw.available_ram > 0 && hw.available_ram <= hw.total_ram, "{hw:?}");
        assert!(hw.cpu_threads >= 1);
        // This build has no GPU backend, so no GPU may be reported as usable.
        if hw.backend == "cpu" {
            assert!(hw.gpus.is_empty(), "{hw:?}");
        }
    }
}
