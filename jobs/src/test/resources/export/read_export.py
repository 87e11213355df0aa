"""Reads what `sparkclip export` wrote with readers sparkclip did not write (tarfile, json, numpy)
and prints what it found as one JSON document, which ExportJobTest compares with the input rows.

  read_export.py wds DIR             every *.tar in DIR: members in order, per-sample image sha256,
                                     caption, json; tar header fields; sizes.json; _manifest.json
  read_export.py npy FILE...         per .npy: dtype, shape, row L2 norms, the values, and whether
                                     numpy's own np.save of the loaded array gives the same bytes
  read_export.py uids FILE           the DataComp uid pairs as 32-hex strings, the dtype, and
                                     whether numpy's save of the DataComp construction matches
  read_export.py half FILE           float32 values (little-endian) to their numpy float16 bits
"""
import hashlib
import io
import json
import os
import sys
import tarfile


def wds(folder):
    out = {"shards": {}, "files": sorted(os.listdir(folder))}
    for name in sorted(f for f in os.listdir(folder) if f.endswith(".tar")):
        members, samples, headers = [], {}, set()
        with tarfile.open(os.path.join(folder, name), "r") as tar:
            for m in tar.getmembers():
                members.append(m.name)
                headers.add((m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode, m.type.decode()))
                data = tar.extractfile(m).read()
                key, ext = m.name.split(".", 1)
                s = samples.setdefault(key, {"key": key})
                if ext == "txt":
                    s["caption"] = data.decode("utf-8")
                elif ext == "json":
                    s["json"] = json.loads(data.decode("utf-8"))
                else:
                    s["ext"] = ext
                    s["sha256"] = hashlib.sha256(data).hexdigest()
        out["shards"][name] = {
            "members": members,
            "samples": list(samples.values()),
            "headers": [list(h) for h in sorted(headers)],
        }
    for extra in ("sizes.json", "_manifest.json"):
        p = os.path.join(folder, extra)
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                out[extra] = json.load(f)
    return out


def npy(files):
    import numpy as np

    out = {}
    for f in files:
        raw = open(f, "rb").read()
        a = np.load(f, allow_pickle=False)
        buf = io.BytesIO()
        np.save(buf, a)
        out[f] = {
            "dtype": a.dtype.str,
            "shape": list(a.shape),
            "norms": np.linalg.norm(a.astype(np.float64), axis=1).tolist() if a.ndim == 2 else [],
            "values": a.astype(np.float64).tolist(),
            "numpy_save_equal": buf.getvalue() == raw,
            "header_len": len(raw) - a.nbytes,
        }
    return out


def uids(f):
    import numpy as np

    raw = open(f, "rb").read()
    a = np.load(f, allow_pickle=False)
    hexes = ["%016x%016x" % (int(x["f0"]), int(x["f1"])) for x in a]
    # DataComp's own construction of a subset from uid strings.
    expected = np.array(
        sorted({(int(u[:16], 16), int(u[16:32], 16)) for u in hexes}),
        dtype=[("f0", "<u8"), ("f1", "<u8")],
    )
    buf = io.BytesIO()
    np.save(buf, expected)
    return {
        "descr": str(a.dtype.descr),
        "shape": list(a.shape),
        "uids": hexes,
        "datacomp_save_equal": buf.getvalue() == raw,
    }


def half(f):
    import numpy as np

    v = np.fromfile(f, dtype="<f4")
    return {"bits": [int(b) for b in v.astype(np.float16).view(np.uint16)]}


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    result = {"wds": lambda: wds(args[0]), "npy": lambda: npy(args), "uids": lambda: uids(args[0]),
              "half": lambda: half(args[0])}[cmd]()
    json.dump(result, sys.stdout)
