#!/usr/bin/env python3
"""Summarise, per scenario operation, the row changes MediaWiki wrote to the binlog.

Usage: tests/mediawiki/rows.py SCENARIO.json [--records ROWS.jsonl] [--bin MWCDC] [--all-tables]

Runs mwcdc (stdout sink, output.entities = false, every table of the scenario's wikis, from
the scenario's start to its end position) unless --records gives its output already, then
prints for each operation and transaction the rows of revision, archive, logging, page and
user_groups: table, op, changed columns (for updates), and for logging rows type/action and
the log_params as written (PHP serialize()). Other tables are counted per transaction
(--all-tables lists them too). Meant for comparing with the workload generator.
"""
import argparse
import collections
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402

MW_TABLES = ("revision", "archive", "logging", "page", "user_groups")


def describe(v):
    t, op = v["source"]["table"], v["op"]
    b, a = v.get("before") or {}, v.get("after") or {}
    if op == "u":
        changed = [k for k in a if a.get(k) != b.get(k)]
        extra = ""
        if t in ("revision", "archive"):
            col = "rev_deleted" if t == "revision" else "ar_deleted"
            if col in changed:
                extra = f" {col} {b[col]}->{a[col]}"
        elif t == "logging" and "log_deleted" in changed:
            extra = f" log_deleted {b['log_deleted']}->{a['log_deleted']}"
        elif t == "page" and "page_is_redirect" in changed:
            extra = f" page_is_redirect {b['page_is_redirect']}->{a['page_is_redirect']}"
        return f"{t} u [{','.join(changed)}]{extra}"
    row = a or b
    if t == "logging":
        return (f"logging {op} {row['log_type']}/{row['log_action']} ns={row['log_namespace']} "
                f"page={row['log_page']} params={str(row['log_params'])[:240]}")
    if t == "revision":
        return f"revision {op} rev_id={row['rev_id']} page={row['rev_page']} deleted={row['rev_deleted']} ts={row['rev_timestamp']}"
    if t == "archive":
        return f"archive {op} ar_rev_id={row['ar_rev_id']} ar_page_id={row['ar_page_id']} deleted={row['ar_deleted']} ts={row['ar_timestamp']}"
    if t == "page":
        return f"page {op} id={row['page_id']} title={row['page_title']} redirect={row['page_is_redirect']} latest={row['page_latest']}"
    if t == "user_groups":
        return f"user_groups {op} user={row['ug_user']} group={row['ug_group']} expiry={row['ug_expiry']}"
    return f"{t} {op}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--records")
    ap.add_argument("--bin", default=os.path.join(check.REPO, "target/debug/mwcdc"))
    ap.add_argument("--all-tables", action="store_true")
    args = ap.parse_args()
    with open(args.scenario) as f:
        sc = json.load(f)
    path = args.records
    if not path:
        path = os.path.join(tempfile.mkdtemp(prefix="mwcdc-rows-"), "rows.jsonl")
        check.run_mwcdc(args.bin, sc, "all", path, entities=False)
    dbs = set(sc["wikis"].values())
    txs = collections.OrderedDict()
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            v = r.get("value")
            if not v or "source" not in v or v["source"]["db"] not in dbs:
                continue
            txs.setdefault(v["source"]["gtid"], []).append(v)
    spans = [(check.parse_pos(o["pos_before"]), check.parse_pos(o["pos_after"]))
             for o in sc["operations"]]
    per_op = collections.defaultdict(list)
    for gtid, rows in txs.items():
        d, n = check.gtid_parts(gtid)
        idx = next((i for i, (b, a) in enumerate(spans) if b.get(d, 0) < n <= a.get(d, 0)), None)
        per_op[idx].append((gtid, rows))
    for i, op in enumerate(sc["operations"]):
        print(f"## op#{i} [{op['db']}] {op['name']}")
        for gtid, rows in per_op.get(i, []):
            mw = [describe(v) for v in rows if v["source"]["table"] in MW_TABLES or args.all_tables]
            other = collections.Counter(f"{v['source']['table']} {v['op']}" for v in rows
                                        if v["source"]["table"] not in MW_TABLES)
            if not mw and not args.all_tables:
                continue
            print(f"  tx {gtid}  (other tables: {', '.join(f'{k} x{c}' for k, c in sorted(other.items())) or 'none'})")
            for m in mw:
                print(f"    {m}")
    if per_op.get(None):
        print(f"## outside every operation: {len(per_op[None])} transactions")


if __name__ == "__main__":
    main()
