//! A GGUF header reader. It checks a file before llama.cpp sees it (so a corrupt or
//! truncated file gets a reason a person understands) and answers `bantam models info`
//! without loading any weights. Only headers are read; tensor data is never touched.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"GGUF";
/// Upper bound for one string in a header: guards against a corrupt length making us
/// allocate gigabytes.
const MAX_STRING: u64 = 64 << 20;

/// A metadata value. Arrays keep their length and element type, not their contents
/// (the tokenizer's vocabulary is tens of thousands of strings nobody needs here).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    String(String),
    Array { len: u64, element: String },
}

impl Value {
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::UInt(v) => Some(*v),
            Value::Int(v) => u64::try_from(*v).ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TensorInfo {
    pub name: String,
    pub dims: Vec<u64>,
    pub ggml_type: u32,
    pub offset: u64,
}

impl TensorInfo {
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Bytes of tensor data, when the type is one this reader knows.
    pub fn bytes(&self) -> Option<u64> {
        let (block, size) = type_block(self.ggml_type)?;
        Some(self.elements().div_ceil(block) * size)
    }
}

/// The parsed header of a GGUF file.
#[derive(Debug, Clone)]
pub struct GgufHeader {
    pub path: PathBuf,
    pub version: u32,
    pub file_size: u64,
    pub metadata: BTreeMap<String, Value>,
    pub tensors: Vec<TensorInfo>,
    pub data_offset: u64,
}

/// What `bantam models info` prints.
#[derive(Debug, Clone, Serialize)]
pub struct ModelFileInfo {
    pub path: PathBuf,
    pub name: Option<String>,
    pub architecture: String,
    pub parameters: u64,
    pub quantization: String,
    pub context_length: Option<u64>,
    pub layers: Option<u64>,
    pub embedding_length: Option<u64>,
    pub has_chat_template: bool,
    pub file_size: u64,
    pub gguf_version: u32,
    pub tensors: usize,
}

impl GgufHeader {
    /// Reads and checks the header: magic, version, metadata, tensor table, and that every
    /// tensor's data lies inside the file (a truncated download fails here).
    pub fn read(path: &Path) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidModel {
            path: path.to_path_buf(),
            reason,
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::ModelNotFound {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Err(invalid("it is a directory, not a file".into()));
        }
        let file_size = meta.len();
        if file_size == 0 {
            return Err(invalid("the file is empty".into()));
        }
        let mut r = Reader {
            inner: BufReader::with_capacity(1 << 16, file),
            pos: 0,
            file_size,
        };
        let mut magic = [0u8; 4];
        r.exact(&mut magic)
            .map_err(|_| invalid("the file is too short to be a GGUF model".into()))?;
        if &magic != MAGIC {
            return Err(invalid(format!(
                "it does not start with the GGUF signature (found {:?}); is it a model in another format?",
                String::from_utf8_lossy(&magic)
            )));
        }
        let mut parse = || -> std::result::Result<GgufHeader, String> {
            let version = r.u32()?;
            if !(2..=3).contains(&version) {
                return Err(format!("GGUF version {version} is not supported (2 and 3 are)"));
            }
            let n_tensors = r.u64()?;
            let n_kv = r.u64()?;
            // Each entry takes at least 8 bytes, so larger counts cannot fit in the file.
            if n_tensors > file_size / 8 || n_kv > file_size / 8 {
                return Err("the header's counts are larger than the file".into());
            }
            let mut metadata = BTreeMap::new();
            for _ in 0..n_kv {
                let key = r.string()?;
                let ty = r.u32()?;
                let value = r.value(ty)?;
                metadata.insert(key, value);
            }
            let mut tensors = Vec::with_capacity(n_tensors as usize);
            for _ in 0..n_tensors {
                let name = r.string()?;
                let n_dims = r.u32()?;
                if n_dims > 8 {
                    return Err(format!("tensor {name} claims {n_dims} dimensions"));
                }
                let dims = (0..n_dims).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
                let ggml_type = r.u32()?;
                let offset = r.u64()?;
                tensors.push(TensorInfo {
                    name,
                    dims,
                    ggml_type,
                    offset,
                });
            }
            let alignment = metadata
                .get("general.alignment")
                .and_then(Value::as_u64)
                .filter(|a| *a > 0)
                .unwrap_or(32);
            let data_offset = r.pos.div_ceil(alignment) * alignment;
            Ok(GgufHeader {
                path: path.to_path_buf(),
                version,
                file_size,
                metadata,
                tensors,
                data_offset,
            })
        };
        let header = parse().map_err(invalid)?;
        header.check_data_bounds().map_err(invalid)?;
        Ok(header)
    }

    fn check_data_bounds(&self) -> std::result::Result<(), String> {
        if self.tensors.is_empty() {
            return Err("it has no tensors (a vocabulary-only file?)".into());
        }
        let mut needed = self.data_offset;
        for t in &self.tensors {
            if let Some(bytes) = t.bytes() {
                needed = needed.max(self.data_offset.saturating_add(t.offset).saturating_add(bytes));
            }
        }
        if needed > self.file_size {
            return Err(format!(
                "the file is truncated: its tensors need {needed} bytes but it has {} \
                 (an interrupted download?)",
                self.file_size
            ));
        }
        Ok(())
    }

    pub fn architecture(&self) -> Option<&str> {
        self.metadata.get("general.architecture").and_then(Value::as_str)
    }

    fn arch_u64(&self, key: &str) -> Option<u64> {
        let arch = self.architecture()?;
        self.metadata.get(&format!("{arch}.{key}")).and_then(Value::as_u64)
    }

    /// The dimensions that decide memory use beyond the weights, where the header has them.
    pub fn shape(&self) -> Option<Shape> {
        let heads = self.arch_u64("attention.head_count")?;
        let embedding = self.arch_u64("embedding_length")?;
        let head_dim = self
            .arch_u64("attention.key_length")
            .unwrap_or(embedding / heads.max(1));
        let vocab = self
            .arch_u64("vocab_size")
            .or_else(|| match self.metadata.get("tokenizer.ggml.tokens") {
                Some(Value::Array { len, .. }) => Some(*len),
                _ => None,
            })?;
        Some(Shape {
            layers: self.arch_u64("block_count")? as u32,
            kv_heads: self.arch_u64("attention.head_count_kv").unwrap_or(heads) as u32,
            head_dim: head_dim as u32,
            embedding: embedding as u32,
            feed_forward: self.arch_u64("feed_forward_length").unwrap_or(embedding * 4) as u32,
            vocab: vocab as u32,
        })
    }

    /// Bytes of the tensors llama.cpp's x86-64 CPU backend copies into a repacked layout:
    /// Q4_0 and Q4_K matrices other than the token embeddings (which are only looked up).
    pub fn repackable_bytes(&self) -> u64 {
        const Q4_0: u32 = 2;
        const Q4_K: u32 = 12;
        self.tensors
            .iter()
            .filter(|t| matches!(t.ggml_type, Q4_0 | Q4_K) && t.name != "token_embd.weight")
            .filter_map(TensorInfo::bytes)
            .sum()
    }

    /// Bytes of tensor data (the weights), from the tensor table.
    pub fn weight_bytes(&self) -> u64 {
        self.tensors.iter().filter_map(TensorInfo::bytes).sum()
    }

    pub fn info(&self) -> ModelFileInfo {
        let quantization = self
            .metadata
            .get("general.file_type")
            .and_then(Value::as_u64)
            .map(file_type_name)
            .unwrap_or_else(|| "unknown".into());
        ModelFileInfo {
            path: self.path.clone(),
            name: self
                .metadata
                .get("general.name")
                .and_then(Value::as_str)
                .map(str::to_string),
            architecture: self.architecture().unwrap_or("unknown").to_string(),
            parameters: self.tensors.iter().map(TensorInfo::elements).sum(),
            quantization,
            context_length: self.arch_u64("context_length"),
            layers: self.arch_u64("block_count"),
            embedding_length: self.arch_u64("embedding_length"),
            has_chat_template: self.metadata.contains_key("tokenizer.chat_template"),
            file_size: self.file_size,
            gguf_version: self.version,
            tensors: self.tensors.len(),
        }
    }
}

/// The dimensions that decide memory use beyond the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub layers: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    pub embedding: u32,
    pub feed_forward: u32,
    pub vocab: u32,
}

struct Reader {
    inner: BufReader<File>,
    pos: u64,
    file_size: u64,
}

type R<T> = std::result::Result<T, String>;

impl Reader {
    fn exact(&mut self, buf: &mut [u8]) -> R<()> {
        self.inner.read_exact(buf).map_err(|_| {
            format!(
                "the header ends early at byte {} of {} (the file is truncated or corrupt)",
                self.pos, self.file_size
            )
        })?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn skip(&mut self, n: u64) -> R<()> {
        if self.pos.saturating_add(n) > self.file_size {
            return Err(format!(
                "a header field runs past the end of the file at byte {} (the file is truncated or corrupt)",
                self.pos
            ));
        }
        let copied = std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink()).map_err(|e| e.to_string())?;
        self.pos += copied;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        let mut b = [0u8; N];
        self.exact(&mut b)?;
        Ok(b)
    }

    fn u32(&mut self) -> R<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> R<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn string(&mut self) -> R<String> {
        let len = self.u64()?;
        if len > MAX_STRING || self.pos.saturating_add(len) > self.file_size {
            return Err(format!(
                "a string at byte {} claims {len} bytes, more than the file holds (truncated or corrupt)",
                self.pos
            ));
        }
        let mut buf = vec![0u8; len as usize];
        self.exact(&mut buf)?;
        String::from_utf8(buf).map_err(|_| format!("a string before byte {} is not UTF-8", self.pos))
    }

    fn value(&mut self, ty: u32) -> R<Value> {
        Ok(match ty {
            0 => Value::UInt(self.array::<1>()?[0] as u64),
            1 => Value::Int(self.array::<1>()?[0] as i8 as i64),
            2 => Value::UInt(u16::from_le_bytes(self.array()?) as u64),
            3 => Value::Int(i16::from_le_bytes(self.array()?) as i64),
            4 => Value::UInt(u32::from_le_bytes(self.array()?) as u64),
            5 => Value::Int(i32::from_le_bytes(self.array()?) as i64),
            6 => Value::Float(f32::from_le_bytes(self.array()?) as f64),
            7 => Value::Bool(self.array::<1>()?[0] != 0),
            8 => Value::String(self.string()?),
            9 => {
                let elem = self.u32()?;
                let len = self.u64()?;
                if len > self.file_size.saturating_sub(self.pos) {
                    return Err(format!(
                        "an array at byte {} claims {len} elements, more than the file holds (truncated or corrupt)",
                        self.pos
                    ));
                }
                match scalar_size(elem) {
                    Some(size) => self.skip(len.saturating_mul(size))?,
                    None => {
                        for _ in 0..len {
                            self.value(elem)?;
                        }
                    }
                }
                Value::Array {
                    len,
                    element: type_name(elem).to_string(),
                }
            }
            10 => Value::UInt(u64::from_le_bytes(self.array()?)),
            11 => Value::Int(i64::from_le_bytes(self.array()?)),
            12 => Value::Float(f64::from_le_bytes(self.array()?)),
            other => return Err(format!("unknown metadata value type {other} at byte {}", self.pos)),
        })
    }
}

fn scalar_size(ty: u32) -> Option<u64> {
    match ty {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

fn type_name(ty: u32) -> &'static str {
    match ty {
        0 => "u8",
        1 => "i8",
        2 => "u16",
        3 => "i16",
        4 => "u32",
        5 => "i32",
        6 => "f32",
        7 => "bool",
        8 => "string",
        9 => "array",
        10 => "u64",
        11 => "i64",
        12 => "f64",
        _ => "unknown",
    }
}

/// (elements per block, bytes per block) of ggml's tensor types.
fn type_block(ty: u32) -> Option<(u64, u64)> {
    Some(match ty {
        0 => (1, 4),
        1 => (1, 2),
        2 => (32, 18),
        3 => (32, 20),
        6 => (32, 22),
        7 => (32, 24),
        8 => (32, 34),
        9 => (32, 36),
        10 => (256, 84),
        11 => (256, 110),
        12 => (256, 144),
        13 => (256, 176),
        14 => (256, 210),
        15 => (256, 292),
        16 => (256, 66),
        17 => (256, 74),
        18 => (256, 98),
        19 => (256, 50),
        20 => (32, 18),
        21 => (256, 110),
        22 => (256, 82),
        23 => (256, 136),
        24 => (1, 1),
        25 => (1, 2),
        26 => (1, 4),
        27 => (1, 8),
        28 => (1, 8),
        29 => (256, 56),
        30 => (1, 2),
        34 => (256, 54),
        35 => (256, 66),
        39 => (32, 17),
        _ => return None,
    })
}

/// llama.cpp's `llama_ftype` names (general.file_type).
fn file_type_name(ft: u64) -> String {
    let name = match ft {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        other => return format!("type {other}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn rejects_empty_and_foreign_files() {
        let empty = write(b"");
        assert!(GgufHeader::read(empty.path())
            .unwrap_err()
            .to_string()
            .contains("empty"));
        let pdf = write(b"%PDF-1.7 not a model at all");
        let err = GgufHeader::read(pdf.path()).unwrap_err().to_string();
        assert!(err.contains("GGUF signature"), "{err}");
    }

    #[test]
    fn rejects_absurd_counts_without_allocating() {
        let mut bytes = b"GGUF".to_vec();
        bytes.extend(3u32.to_le_bytes());
        bytes.extend(u64::MAX.to_le_bytes());
        bytes.extend(u64::MAX.to_le_bytes());
        let f = write(&bytes);
        let err = GgufHeader::read(f.path()).unwrap_err().to_string();
        assert!(err.contains("larger than the file"), "{err}");
    }

    #[test]
    fn missing_file_is_its_own_error() {
        let err = GgufHeader::read(Path::new("/nonexistent/model.gguf")).unwrap_err();
        assert!(matches!(err, Error::ModelNotFound { .. }));
    }
}
