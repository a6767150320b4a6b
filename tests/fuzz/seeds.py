#!/usr/bin/env python3
"""seeds.py - writes the seed corpus of every fuzz target from the known-answer vectors.

usage: python3 tests/fuzz/seeds.py OUT_DIR

OUT_DIR/<target>/ gets one file per seed (its previous contents are replaced):
  fuzz_frame     the sample auth and enroll frames of transcripts.json, frames of the other typed
                 requests built from its values, and its base64url texts and envelope texts
  fuzz_envelope  the envelope bytes of envelope.json
  fuzz_note      audit.json's signed checkpoints (signed by the key fuzz_note knows), their
                 bodies, the checkpoints and vkeys that must be refused, the two vkeys
  fuzz_scales    scales.json's record bodies: canonical, non-canonical and refused
  fuzz_statement statements.json's valid and refused statements, each chain's statements
                 concatenated (fuzz_statement cuts its input into rosters by their count byte)
  fuzz_recommend recommend.json's recommendation and card bodies: canonical, non-canonical and
                 refused (the checks' entries have no body)
  fuzz_config    the commented sesamed.conf `sesamed init` writes (ses_config_template, read
                 from daemon/config.c), each of its option lines uncommented on its own, and all
                 of them in one file
Only the standard library; run by tests/fuzz/run.sh.
"""
import hashlib
import json
import os
import re
import shutil
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VECTORS = os.path.join(TOP, "protocol", "vectors")


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


class Corpus:
    def __init__(self, out, target):
        self.dir = os.path.join(out, target)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.n = 0

    def add(self, label, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        label = re.sub(r"[^A-Za-z0-9_.-]+", "-", label)[:60]
        digest = hashlib.sha1(data).hexdigest()[:12]
        with open(os.path.join(self.dir, f"{label}-{digest}"), "wb") as f:
            f.write(data)
        self.n += 1


def frame_seeds(c):
    tr = load("transcripts.json")
    env = load("envelope.json")
    for v in tr["vectors"]:
        for kind, text in v.get("frames", {}).items():
            c.add(f"{v['name']}-{kind}", text)
        for key, text in v["text"].items():
            c.add(f"{v['name']}-b64-{key}", text)
        dev = v["text"]["device_id"]
        c.add(f"{v['name']}-revoke-device", json.dumps({"t": "revoke", "id": 3, "device": dev}))
        c.add(f"{v['name']}-revoke-user", json.dumps({"t": "revoke", "id": 4, "user": dev}))
        c.add(f"{v['name']}-invite-user", json.dumps({"t": "invite", "id": 5, "user": dev}))
    c.add("invite-new", json.dumps({"t": "invite", "id": 6, "role": "nurse", "name": "Ana B.",
                                    "site": "Clinic", "ttl": 3600}))
    c.add("flat", '{"t":"ping","id":7}')
    for v in env["vectors"]:
        c.add(f"{v['name']}-b64url", v["envelope_b64url"])


def envelope_seeds(c):
    for v in load("envelope.json")["vectors"]:
        c.add(v["name"], bytes.fromhex(v["envelope"]))


def note_seeds(c):
    a = load("audit.json")
    for cp in a["checkpoints"]:
        c.add(f"checkpoint-{cp['size']}", cp["note"])
        c.add(f"body-{cp['size']}", cp["body"])
    for i, cp in enumerate(a["negative"]["checkpoints"]):
        c.add(f"negative-checkpoint-{i}", cp["note"])
    for key in ("vkey", "other_vkey"):
        c.add(key, a["keys"][key])
    for i, vk in enumerate(a["negative"]["vkeys"]):
        c.add(f"negative-vkey-{i}", vk["vkey"])


def scales_seeds(c):
    s = load("scales.json")
    for section in ("records", "parse", "reject"):
        for i, v in enumerate(s[section]):
            body = bytes.fromhex(v["body_hex"]) if "body_hex" in v else v["body"]
            c.add(f"{section}-{v.get('name', i)}", body)


def statement_seeds(c):
    s = load("statements.json")
    for section in ("valid", "refused"):
        for v in s[section]:
            c.add(f"{section}-{v['name']}", bytes.fromhex(v["bytes"]))
    for ch in s["chains"]:
        c.add(f"chain-{ch['name']}", b"".join(bytes.fromhex(x) for x in ch["statements"]))


def recommend_seeds(c):
    r = load("recommend.json")
    for section in ("docs", "doc_parse", "doc_reject", "cards", "card_parse", "card_reject"):
        for i, v in enumerate(r[section]):
            body = bytes.fromhex(v["body_hex"]) if "body_hex" in v else v.get("body")
            if body is not None:
                c.add(f"{section}-{v.get('name', i)}", body)


def config_template():
    """The text of ses_config_template() in daemon/config.c (its C string literals joined)."""
    with open(os.path.join(TOP, "daemon", "config.c"), encoding="utf-8") as f:
        src = f.read()
    m = re.search(r"ses_config_template\(void\)\s*\{\s*return(.*?);\s*\}", src, re.S)
    if m is None:
        sys.exit("seeds.py: ses_config_template not found in daemon/config.c")
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "'": "'"}
    text = ""
    for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)):
        text += re.sub(r"\\(.)", lambda e: escapes.get(e.group(1), e.group(0)), lit)
    return text


def config_seeds(c):
    template = config_template()
    c.add("template", template)
    tr = load("transcripts.json")["vectors"]
    ids = {"USER_ID": tr[0]["text"]["device_id"], "NURSE_ID": tr[1]["text"]["device_id"],
           "BACKUP_NURSE_ID": tr[2]["text"]["device_id"]}
    lines = []
    for line in template.splitlines():
        m = re.match(r"# ([a-z_]+) = (.*)$", line)
        if m is None:
            continue
        value = re.split(r"\s{2,}", m.group(2))[0]  # drop the "   (comment)" after the value
        value = re.sub(r"[A-Z_]+_ID|USER_ID", lambda k: ids.get(k.group(0), k.group(0)), value)
        lines.append(f"{m.group(1)} = {value}")
    for line in lines:
        c.add(f"line-{line.split(' ')[0]}", line + "\n")
    c.add("all-lines", "\n".join(lines) + "\n")
    c.add("crlf-and-blanks", "\r\n# comment\r\n\t\r\n" + "\r\n".join(lines[:4]) + "\r\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    for target, make in (("fuzz_frame", frame_seeds), ("fuzz_envelope", envelope_seeds),
                         ("fuzz_note", note_seeds), ("fuzz_scales", scales_seeds),
                         ("fuzz_statement", statement_seeds), ("fuzz_recommend", recommend_seeds),
                         ("fuzz_config", config_seeds)):
        c = Corpus(out, target)
        make(c)
        print(f"seeds: {target}: {c.n} files in {c.dir}")


if __name__ == "__main__":
    main()
