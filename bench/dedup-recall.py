#!/usr/bin/env python3
# bench/dedup-recall.py RAW DEDUP_OUT: recall per duplicate kind and removal precision of a dedup
# output against the ground truth of the generated input RAW (needs python3 with duckdb).
# (same definitions as sparkclip evaluate: a pair is found when dedup removed either row; a removal is
# right when the removed row and the row it duplicates are one ground-truth duplicate family).
import duckdb, sys
raw, out = sys.argv[1], sys.argv[2]
c = duckdb.connect()
gt = c.execute(f"select uid, fault, original_uid from read_parquet('{raw}/_ground_truth/*.parquet')").fetchall()
rej = c.execute(f"select uid, stage, reason, related_uid from read_parquet('{out}/rejects/*.parquet')").fetchall()
parent = {}
def find(x):
    parent.setdefault(x, x)
    while parent[x] != x:
        parent[x] = parent[parent[x]]; x = parent[x]
    return x
dupkinds = ("exact_duplicate", "url_duplicate", "near_duplicate")
for u, f, o in gt:
    if f in dupkinds and o:
        a, b = find(u), find(o)
        if a != b: parent[max(a, b)] = min(a, b)
unusable = {u for u, s, r, _ in rej if r not in ("duplicate_exact_url", "duplicate_image_hash", "near_duplicate_image")}
removed = {u for u, s, r, _ in rej if r in ("duplicate_exact_url", "duplicate_image_hash", "near_duplicate_image")}
for kind in dupkinds:
    pairs = [(u, o) for u, f, o in gt if f == kind and o and u not in unusable and o not in unusable]
    found = sum(1 for u, o in pairs if u in removed or o in removed)
    print(f"{kind}: recall {found}/{len(pairs)} = {found / max(1, len(pairs)):.4f}")
rm = [(u, r, rel) for u, s, r, rel in rej if r in ("duplicate_exact_url", "duplicate_image_hash", "near_duplicate_image")]
right = sum(1 for u, r, rel in rm if rel and find(u) == find(rel))
near = [(u, rel) for u, r, rel in rm if r == "near_duplicate_image"]
nright = sum(1 for u, rel in near if rel and find(u) == find(rel))
print(f"dedup removals: precision {right}/{len(rm)} = {right / max(1, len(rm)):.4f}; near_duplicate_image removals {nright}/{len(near)} = {nright / max(1, len(near)):.4f}")
