#!/usr/bin/env python3
"""A GGUF with the exact tensor shapes of Llama 3.2 1B or 3B and random weights.

Speed depends on shapes and quantization, not on weight values, so this stands in for
the real models where their weights cannot be downloaded. The vocabulary is llama.cpp's
real Llama-3 BPE one (build-llama-tools.sh leaves it in ~/.cache/bantam-anchor/vocab/),
so text tokenizes as with the real model. Its answers are noise: never measure quality.

    python3 make-random-llama.py --shape 1b --vocab VOCAB.gguf --out llama-1b-f16.gguf
    llama-quantize llama-1b-f16.gguf llama-1b-Q4_K_M.gguf Q4_K_M

Needs `pip install gguf numpy`.
"""
import argparse

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType

# layers, embedding, feed-forward, heads, KV heads
SHAPES = {"tiny": (2, 256, 768, 4, 2), "1b": (16, 2048, 8192, 32, 8), "3b": (28, 3072, 8192, 24, 8)}

# Llama 3's chat format, for vocabularies that ship without a template.
TEMPLATE = (
    "{{- bos_token }}{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)


def add_vocabulary(path, writer):
    """Every tokenizer key of llama.cpp's vocabulary-only GGUF; returns the vocabulary size."""
    reader = GGUFReader(path)
    size = 0
    for field in reader.fields.values():
        if not field.name.startswith("tokenizer."):
            continue
        if field.types[0] == GGUFValueType.ARRAY:
            values = field.contents()
            writer.add_array(field.name, values)
            if field.name == "tokenizer.ggml.tokens":
                size = len(values)
        else:
            writer.add_key_value(field.name, field.contents(), field.types[0])
    if "tokenizer.chat_template" not in reader.fields:
        writer.add_chat_template(TEMPLATE)
    if "tokenizer.ggml.eot_token_id" not in reader.fields:
        writer.add_eot_token_id(128009)  # <|eot_id|> ends a turn (the file's eos is <|end_of_text|>)
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=SHAPES, default="1b")
    ap.add_argument("--vocab", required=True, help="ggml-vocab-llama-bpe.gguf")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    o = ap.parse_args()
    layers, embd, ff, heads, kv_heads = SHAPES[o.shape]
    head_dim = embd // heads
    w = GGUFWriter(o.out, "llama")
    w.add_name(f"random-llama-3.2-{o.shape}")
    vocab = add_vocabulary(o.vocab, w)
    w.add_block_count(layers)
    w.add_context_length(131072)
    w.add_embedding_length(embd)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(vocab)
    w.add_file_type(LlamaFileType.MOSTLY_F16)
    rng = np.random.default_rng(o.seed)

    def matrix(rows, cols):  # (out, in), as llama.cpp reads them
        return (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16)

    ones = np.ones(embd, dtype=np.float32)
    w.add_tensor("token_embd.weight", matrix(vocab, embd))  # tied with the output, as in 3.2
    w.add_tensor("output_norm.weight", ones)
    for i in range(layers):
        b = f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", ones)
        w.add_tensor(b + "attn_q.weight", matrix(heads * head_dim, embd))
        w.add_tensor(b + "attn_k.weight", matrix(kv_heads * head_dim, embd))
        w.add_tensor(b + "attn_v.weight", matrix(kv_heads * head_dim, embd))
        w.add_tensor(b + "attn_output.weight", matrix(embd, heads * head_dim))
        w.add_tensor(b + "ffn_norm.weight", ones)
        w.add_tensor(b + "ffn_gate.weight", matrix(ff, embd))
        w.add_tensor(b + "ffn_up.weight", matrix(ff, embd))
        w.add_tensor(b + "ffn_down.weight", matrix(embd, ff))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=True)
    w.close()
    print(f"wrote {o.out}: {o.shape}, vocabulary {vocab}")


if __name__ == "__main__":
    main()
