"""Writes WebDataset tar shards in img2dataset's layout with Python's tarfile, from a JSON spec, so
that sparkclip's reader is tested on tars it did not write.

  make_webdataset.py SPEC OUT_DIR

SPEC: {"shards": [{"name": "00000.tar", "sidecars": true, "truncate_in": "000000007.jpg",
                   "members": [{"name": "000000000.jpg", "file": "/path"} |
                               {"name": "000000000.txt", "text": "a caption"} |
                               {"name": "000000000.json", "json": {...}} |
                               {"name": "x.txt", "hex": "fffe41"}]}]}
Members are written in the order given (img2dataset writes a sample's members together). With
"sidecars", {shard}.parquet (garbage bytes: it must never be read as data) and {shard}_stats.json
are written beside the tar, as img2dataset does. "truncate_in" cuts the tar in the middle of that
member's data, as an interrupted download or copy would. Prints {"sizes": {name: bytes}} and the
data offset of every member.
"""
import io
import json
import os
import sys
import tarfile


def data_of(m):
    if "file" in m:
        with open(m["file"], "rb") as f:
            return f.read()
    if "text" in m:
        return m["text"].encode("utf-8")
    if "json" in m:
        return json.dumps(m["json"]).encode("utf-8")
    return bytes.fromhex(m["hex"])


def main(spec_path, out):
    spec = json.load(open(spec_path, encoding="utf-8"))
    os.makedirs(out, exist_ok=True)
    report = {"sizes": {}, "offsets": {}}
    for shard in spec["shards"]:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for m in shard["members"]:
                data = data_of(m)
                info = tarfile.TarInfo(m["name"])
                info.size = len(data)
                info.mtime = 1700000000
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        raw = buf.getvalue()
        offsets = {}
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r") as tar:
            for ti in tar.getmembers():
                offsets[ti.name] = [ti.offset, ti.offset_data, ti.size]
        cut = shard.get("truncate_in")
        if cut:
            _, start, size = offsets[cut]
            raw = raw[: start + size // 2]
        path = os.path.join(out, shard["name"])
        with open(path, "wb") as f:
            f.write(raw)
        if shard.get("sidecars"):
            stem = shard["name"][: -len(".tar")]
            with open(os.path.join(out, stem + ".parquet"), "wb") as f:
                f.write(b"not parquet: img2dataset's metadata sidecar is never read as data")
            with open(os.path.join(out, stem + "_stats.json"), "w") as f:
                json.dump({"count": len(shard["members"]), "successes": 0}, f)
        report["sizes"][shard["name"]] = len(raw)
        report["offsets"][shard["name"]] = offsets
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
