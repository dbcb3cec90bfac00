//! Models as files: the catalogue Bantam recommends, the GGUF header reader, the memory
//! estimate ("will it fit?") and the library of models on this machine. One direction:
//! `gguf` ← `catalog` ← `fit` ← `library` (which alone calls the engine, to check that
//! llama.cpp loads a file). What the machine has comes from [`crate::hardware`].

pub mod catalog;
pub mod fit;
pub mod gguf;
pub mod library;

pub use library::{ModelLibrary, ModelListing};
