"""Converts a BERT sentence-embedding model (Hugging Face layout: config.json,
model.safetensors, vocab.txt, and sentence-transformers' 1_Pooling/config.json) into a
GGUF that llama.cpp loads as a `bert` model with its pooling, the way llama.cpp's own
convert_hf_to_gguf.py writes one — without torch: the PyPI `gguf`, `safetensors` and
numpy are enough. Weight matrices go to F16; embeddings tables, norms and biases stay F32.

    python bert_to_gguf.py MODEL_DIR OUT.gguf [--name NAME]
"""

import argparse
import json
import sys
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import load_file

# sentence-transformers' pooling modes, in llama.cpp's terms.
POOLING = {
    "pooling_mode_mean_tokens": gguf.PoolingType.MEAN,
    "pooling_mode_cls_token": gguf.PoolingType.CLS,
}
# Kept in F32: llama.cpp reads these tables by row, and they are small.
KEEP_F32 = ("token_embd_norm", "position_embd", "token_types")


def pooling(model_dir):
    path = model_dir / "1_Pooling" / "config.json"
    if not path.is_file():
        return gguf.PoolingType.CLS
    config = json.loads(path.read_text())
    for key, kind in POOLING.items():
        if config.get(key):
            return kind
    sys.exit(f"{path}: only mean or CLS pooling can be converted")


def phantom(token):
    # llama.cpp's WordPiece vocabulary marks a word's start with U+2581, not a
    # continuation with "##" (what convert_hf_to_gguf.py does for BERT).
    if token.startswith("[") and token.endswith("]"):
        return token
    if token.startswith("##"):
        return token[2:]
    return "\u2581" + token


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--name", default=None)
    o = parser.parse_args()
    config = json.loads((o.model_dir / "config.json").read_text())
    if config.get("model_type") != "bert":
        sys.exit(f"not a BERT model: model_type {config.get('model_type')!r}")
    tensors = load_file(str(o.model_dir / "model.safetensors"))
    vocab = (o.model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    n_blocks = config["num_hidden_layers"]

    arch = gguf.MODEL_ARCH.BERT
    writer = gguf.GGUFWriter(str(o.out), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_name(o.name or o.model_dir.name)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_block_count(n_blocks)
    writer.add_head_count(config["num_attention_heads"])
    writer.add_layer_norm_eps(config["layer_norm_eps"])
    writer.add_causal_attention(False)
    writer.add_pooling_type(pooling(o.model_dir))
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)

    writer.add_token_type_count(config.get("type_vocab_size", 1))
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list([phantom(t) for t in vocab])
    writer.add_token_types([
        gguf.TokenType.CONTROL if t.startswith("[") and t.endswith("]") else gguf.TokenType.NORMAL for t in vocab
    ])
    index = {t: i for i, t in enumerate(vocab)}
    writer.add_bos_token_id(index["[CLS]"])
    writer.add_eos_token_id(index["[SEP]"])
    writer.add_sep_token_id(index["[SEP]"])
    writer.add_unk_token_id(index["[UNK]"])
    writer.add_pad_token_id(index["[PAD]"])
    writer.add_mask_token_id(index["[MASK]"])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(True)

    names = gguf.get_tensor_name_map(arch, n_blocks)
    for key, data in tensors.items():
        key = key.removeprefix("bert.")
        if key.startswith("pooler.") or key.endswith("position_ids"):
            continue  # sentence embeddings pool the last layer; the pooler is unused
        name = names.get_name(key, try_suffixes=(".weight", ".bias"))
        if name is None:
            sys.exit(f"no GGUF name for tensor {key}")
        data = data.astype(np.float32)
        if data.ndim == 2 and name.endswith(".weight") and not name.startswith(KEEP_F32):
            data = data.astype(np.float16)
        writer.add_tensor(name, data)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
