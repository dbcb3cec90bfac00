"""A reference for Bantam's embeddings, independent of llama.cpp: BERT's own WordPiece
tokenizer and forward pass written out in numpy over the model's safetensors, mean
pooling, unit length. Reads a JSON list of texts on stdin, writes their vectors as JSON.

    python bert_reference.py MODEL_DIR < texts.json
"""

import json
import sys
import unicodedata
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file


def basic_tokens(text):
    # BertTokenizer with do_lower_case: lower, strip accents, split on space and punctuation.
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    out, word = [], ""
    for c in text:
        if c.isspace():
            out, word = out + ([word] if word else []), ""
        elif unicodedata.category(c).startswith("P") or (c.isascii() and not c.isalnum()):
            out, word = out + ([word] if word else []) + [c], ""
        else:
            word += c
    return out + ([word] if word else [])


def wordpiece(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu(x):
    from math import erf, sqrt
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / sqrt(2.0)))


def embed(ids, t, config):
    n_heads = config["num_attention_heads"]
    eps = config["layer_norm_eps"]
    x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][: len(ids)]
    x = x + t["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], eps)
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda name, v: v @ t[p + name + ".weight"].T + t[p + name + ".bias"]
        q, k, v = (lin(f"attention.self.{n}", x) for n in ("query", "key", "value"))
        d = q.shape[-1] // n_heads
        split = lambda m: m.reshape(len(ids), n_heads, d).transpose(1, 0, 2)
        scores = split(q) @ split(k).transpose(0, 2, 1) / np.sqrt(d)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        attn = (scores @ split(v)).transpose(1, 0, 2).reshape(len(ids), -1)
        x = layer_norm(x + lin("attention.output.dense", attn),
                       t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"], eps)
        h = lin("output.dense", gelu(lin("intermediate.dense", x)))
        x = layer_norm(x + h, t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"], eps)
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def main():
    model = Path(sys.argv[1])
    config = json.loads((model / "config.json").read_text())
    tensors = {k.removeprefix("bert."): v.astype(np.float64) for k, v in load_file(str(model / "model.safetensors")).items()}
    vocab = {w: i for i, w in enumerate((model / "vocab.txt").read_text(encoding="utf-8").splitlines())}
    out = []
    for text in json.load(sys.stdin):
        pieces = ["[CLS]"] + [p for w in basic_tokens(text) for p in wordpiece(w, vocab)] + ["[SEP]"]
        out.append(embed([vocab[p] for p in pieces], tensors, config).tolist())
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
