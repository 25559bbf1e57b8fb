#!/usr/bin/env python3
"""The workload generator must not drift from the real MediaWiki: compare the row changes.

Usage: tests/mediawiki/drift.py SCENARIO.json [--mwcdc BIN] [--workload BIN]
           [--ops N] [--seed S] [--db-prefix P] [--batch-size B] [--keep DIR] [-v]

SCENARIO.json is tests/mediawiki/scenario.py's output (already run against the real MediaWiki
1.39 test wikis). This script

 1. reads MediaWiki's row changes over the scenario's GTID range with mwcdc (row records,
    stdout sink), keeping the five tables revision, archive, logging, page, user_groups of the
    scenario's wikis;
 2. runs mwcdc-workload once (one wiki, --create-schema true, its own --db-prefix, seeded,
    --big-pages 0, --delete-batch-size = the batch size MediaWiki's deletions show) and reads
    its row changes over the GTID range of that run the same way;
 3. classifies every transaction of both sides into an operation kind by what it writes, with
    one classifier (the main log row's log_type/log_action and the rows around it; deletion
    batches without a log row; purges; edits; follow-up transactions that only touch page or
    user_groups rows are attached to the operation before them);
 4. compares, per kind both sides have, the shape: the ordered (table, op) steps of each
    transaction, for UPDATEs the columns that change (per row and per update of that row),
    for logging INSERTs log_type/log_action, log_page and the structure of log_params (PHP
    serialize(): keys, value types, list vs int-keyed array vs string-keyed array, nested),
    a few invariants that relate log_params to the rows (6::ofield/7::nfield vs the
    rev_deleted change, 5::noredir vs the redirect page), and transaction boundaries
    (deletion batches: every non-final batch full, the last with page DELETE and the log
    row; follow-up transactions). Values (ids, titles, timestamps) are not compared.
 5. prints, per kind: equal / differs (each difference) / only in MediaWiki / only in the
    generator, and `kinds: N, compared: C, drifts: D`.

Exit status 1 when a kind both sides have differs, or when the generator produced a kind that
docs/workload.md's table claims and the scenario has no MediaWiki counterpart for. Kinds only
MediaWiki has are listed as not modelled by the generator.

Standard library only. Talks to 127.0.0.1 only (MariaDB of tests/services/mariadb.sh).
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402
from scenario import gtid_pos  # noqa: E402

REPO = check.REPO
TABLES = ("revision", "archive", "logging", "page", "user_groups")

# The operation kinds docs/workload.md's table claims ("what it writes"), row by row, as the
# classifier below names them.
CLAIMED = {
    "page creation": ["page creation"],
    "edit (sometimes turning the page into a redirect or back)":
        ["edit", "edit, redirect change"],
    "page deletion (10% suppressing)": ["page deletion", "page deletion, suppressed"],
    "undeletion (all or some revisions)": ["undeletion"],
    "revision deletion / suppression": ["revision deletion", "revision suppression"],
    "page move, with or without redirect":
        ["page move, leaving a redirect", "page move, without redirect"],
    "user group add, remove, expiry change (10% User@otherwiki: the log row only)":
        ["user group add", "user group remove", "user group expiry change",
         "user rights of another wiki's user"],
    "purge": ["purge"],
}
CLAIMED_KINDS = {k: row for row, ks in CLAIMED.items() for k in ks}

# Columns whose change depends on the values, not on what the code writes: when only one side
# shows them changing, that is printed as a note, not a drift.
VALUE_DEPENDENT = {
    "page_namespace": "changes only when a move crosses namespaces",
    "page_is_new": "changes only when the page had a single revision before",
    "page_len": "changes only when the new latest revision has another length",
    "page_is_redirect": "changes only when the new latest revision is a redirect (or stops "
                        "being one)",
}

# (column, role) pairs whose change depends on the clock: insertOn sets page_touched to the
# current second and updateRevisionOn to the revision's, so a new page's UPDATE changes it
# only when the second ticks between the two (or, after an undeletion, always).
TIME_DEPENDENT = {
    ("page_touched", "new page"): "set to now by the INSERT and to the revision's time by the "
                                  "UPDATE: changes only when the second ticks in between",
}


# ---- PHP unserialize -------------------------------------------------------------------

class PArr:
    """A PHP array: ordered (key, value) pairs; keys int or bytes."""

    def __init__(self, items):
        self.items = items


def php_parse(b, i=0):
    t = b[i:i + 1]
    if t == b"N":
        return None, i + 2
    if t in (b"i", b"b", b"d"):
        j = b.index(b";", i)
        s = b[i + 2:j].decode()
        if t == b"i":
            return int(s), j + 1
        if t == b"b":
            return s == "1", j + 1
        return float(s), j + 1
    if t == b"s":
        j = b.index(b":", i + 2)
        n = int(b[i + 2:j])
        s = b[j + 2:j + 2 + n]
        return s, j + 2 + n + 2
    if t == b"a":
        j = b.index(b":", i + 2)
        n = int(b[i + 2:j])
        i = j + 2
        items = []
        for _ in range(n):
            k, i = php_parse(b, i)
            v, i = php_parse(b, i)
            items.append((k, v))
        return PArr(items), i + 1
    raise ValueError(f"unsupported PHP serialize type {t!r} at {i}: {b[i:i + 40]!r}")


def column_bytes(v):
    if v is None:
        return None
    if isinstance(v, dict) and "base64" in v:
        import base64
        return base64.b64decode(v["base64"])
    if isinstance(v, str):
        return v.encode()
    return str(v).encode()


def column_text(v):
    b = column_bytes(v)
    return None if b is None else b.decode("utf-8", "replace")


# ---- structural types of log_params ----------------------------------------------------

def form_of(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, bytes):
        return "string"
    if not v.items:
        return "empty array"
    keys = [k for k, _ in v.items]
    if all(isinstance(k, int) for k in keys):
        if keys == list(range(len(keys))):
            return "list"
        return "int-keyed array (PHP keys kept, not 0..n-1)"
    if all(isinstance(k, bytes) for k in keys):
        return "string-keyed array"
    return "mixed-key array"


def php_text(v, limit=160):
    """Re-serialize a parsed value (for examples)."""
    def ser(x):
        if x is None:
            return "N;"
        if isinstance(x, bool):
            return f"b:{int(x)};"
        if isinstance(x, int):
            return f"i:{x};"
        if isinstance(x, float):
            return f"d:{x};"
        if isinstance(x, bytes):
            return f's:{len(x)}:"{x.decode("utf-8", "replace")}";'
        return f"a:{len(x.items)}:{{" + "".join(ser(k) + ser(w) for k, w in x.items) + "}"
    s = ser(v)
    return s if len(s) <= limit else s[:limit] + "..."


class Ty:
    """The merged structure of the values seen at one path of log_params."""

    def __init__(self):
        self.forms = collections.Counter()   # form -> count
        self.examples = {}                    # form -> text
        self.elem = None                      # Ty of list / int-keyed elements
        self.keys = None                      # string key -> Ty
        self.key_count = collections.Counter()
        self.maps = 0                         # string-keyed arrays seen

    def add(self, v):
        f = form_of(v)
        self.forms[f] += 1
        self.examples.setdefault(f, php_text(v))
        if f in ("list", "int-keyed array (PHP keys kept, not 0..n-1)"):
            if self.elem is None:
                self.elem = Ty()
            for _, w in v.items:
                self.elem.add(w)
        elif f == "string-keyed array":
            if self.keys is None:
                self.keys = {}
            self.maps += 1
            for k, w in v.items:
                ks = k.decode("utf-8", "replace")
                self.key_count[ks] += 1
                self.keys.setdefault(ks, Ty()).add(w)


INT_KEYED = "int-keyed array (PHP keys kept, not 0..n-1)"
ARRAYS = {"list", INT_KEYED, "string-keyed array", "mixed-key array"}
SCALARS = {"int", "string", "bool", "float"}


def value_forms(mine, other):
    """The forms of one side that the other lacks and that are not mere values: null next to
    a scalar or a scalar next to null alone (an expiry or none), an empty array next to an
    array form or an array form next to the empty array alone (no groups before), a list next
    to an int-keyed array (what an int-keyed array is when its keys happen to be 0..n-1)."""
    out = set()
    for f in set(mine) - set(other):
        if f == "null" and set(other) & SCALARS:
            continue
        if f in SCALARS and "null" in other and not set(other) & SCALARS:
            continue
        if f == "empty array" and set(other) & ARRAYS:
            continue
        if f in ARRAYS and "empty array" in other and not set(other) & ARRAYS:
            continue
        if f == "list" and INT_KEYED in other:
            continue
        out.add(f)
    return out


def ty_diff(mw, gen, path):
    out = []
    only_mw, only_gen = value_forms(mw.forms, gen.forms), value_forms(gen.forms, mw.forms)
    if only_mw or only_gen:
        out.append(f"{path}: MediaWiki writes {describe_forms(mw, only_mw)}  <>  "
                   f"generator writes {describe_forms(gen, only_gen)}")
    if mw.elem is not None and gen.elem is not None:
        out += ty_diff(mw.elem, gen.elem, path + "[]")
    if mw.keys is not None and gen.keys is not None:
        for k in sorted(set(mw.keys) | set(gen.keys)):
            if k in mw.keys and k not in gen.keys:
                out.append(f"{path}: key {k!r} in MediaWiki ({mw.key_count[k]} of {mw.maps}, "
                           f"e.g. {mw.keys[k].examples[next(iter(mw.keys[k].forms))]}), "
                           f"never in the generator")
            elif k in gen.keys and k not in mw.keys:
                out.append(f"{path}: key {k!r} in the generator ({gen.key_count[k]} of "
                           f"{gen.maps}), never in MediaWiki")
            else:
                out += ty_diff(mw.keys[k], gen.keys[k], f"{path}[{k!r}]")
    return out


def describe_forms(t, only=()):
    return ", ".join(f"{'[only here] ' if f in only else ''}{f} (e.g. {t.examples[f]})"
                     for f in sorted(t.forms)) or "nothing"


# ---- reading row changes ---------------------------------------------------------------

def wait_for(path, what, timeout=600):
    deadline = time.time() + timeout
    while not os.access(path, os.X_OK):
        if time.time() > deadline:
            sys.exit(f"{what} {path} missing")
        print(f"waiting for {path} (being rebuilt?)", file=sys.stderr)
        time.sleep(10)


def read_transactions(path, dbs):
    """Transactions (in commit order) of the five tables' rows of `dbs`: lists of row dicts."""
    txs = collections.OrderedDict()
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            v = r.get("value")
            if not isinstance(v, dict) or "source" not in v:
                continue
            src = v["source"]
            if src.get("db") not in dbs or src.get("table") not in TABLES:
                continue
            txs.setdefault(src["gtid"], []).append({
                "table": src["table"], "op": v["op"], "db": src["db"], "gtid": src["gtid"],
                "before": v.get("before") or {}, "after": v.get("after") or {}})
    return [(g, rows) for g, rows in txs.items()]


# ---- the classifier --------------------------------------------------------------------

def row_of(r):
    return r["after"] if r["op"] in ("c", "r", "u") else r["before"]


def changed(r):
    b, a = r["before"], r["after"]
    return sorted(k for k in a if a.get(k) != b.get(k))


def log_rows(rows):
    return [r for r in rows if r["table"] == "logging" and r["op"] == "c"]


def ta(r):
    row = row_of(r)
    return f"{column_text(row['log_type'])}/{column_text(row['log_action'])}"


def params_of(r):
    raw = column_bytes(row_of(r).get("log_params"))
    if raw is None:
        return None
    try:
        return php_parse(raw)[0]
    except (ValueError, IndexError):
        return ("unparsable", raw)


def pget(p, key):
    if isinstance(p, PArr):
        for k, v in p.items:
            if k == key.encode():
                return v
    return None


def main_log(rows):
    logs = log_rows(rows)
    if not logs:
        return None
    for pref in ("move/", "rights/", "delete/", "suppress/"):
        for r in logs:
            if ta(r).startswith(pref):
                return r
    return logs[0]


def classify(rows):
    """(kind, role) of one transaction; role: primary, batch (deletion batch without the log
    row) or followup (page/user_groups updates that belong to the operation before)."""
    ops = collections.Counter((r["table"], r["op"]) for r in rows)
    log = main_log(rows)
    page_c = ops[("page", "c")] > 0
    if log is not None:
        t = ta(log)
        p = params_of(log)
        if t == "create/create":
            redirect = any(r["table"] == "page" and r["op"] == "u"
                           and r["after"].get("page_is_redirect") == 1 for r in rows)
            return ("page creation, as a redirect" if redirect else "page creation"), "primary"
        if t == "move/move":
            return ("page move, leaving a redirect" if page_c
                    else "page move, without redirect"), "primary"
        if t == "move/move_redir":
            return "page move over its redirect (move_redir)", "primary"
        if t == "delete/delete":
            return "page deletion", "primary"
        if t == "suppress/delete":
            return "page deletion, suppressed", "primary"
        if t == "delete/restore":
            return ("undeletion" if page_c else "undeletion into an existing page"), "primary"
        if t in ("delete/revision", "suppress/revision"):
            what = pget(p, "4::type")
            what = what.decode("utf-8", "replace") if isinstance(what, bytes) else repr(what)
            base = "revision deletion" if t == "delete/revision" else "revision suppression"
            return (base if what == "revision" else f"{what} {base}"), "primary"
        if t in ("delete/event", "suppress/event"):
            return f"log entry deletion ({t})", "primary"
        if t == "rights/rights":
            title = column_text(row_of(log)["log_title"]) or ""
            if "@" in title:
                return "user rights of another wiki's user", "primary"
            ug = {r["op"] for r in rows if r["table"] == "user_groups"}
            name = {frozenset("c"): "user group add", frozenset("d"): "user group remove",
                    frozenset("u"): "user group expiry change",
                    frozenset("cd"): "user group add + remove"}.get(frozenset(ug))
            return (name or f"user rights ({''.join(sorted(ug)) or 'no group row'})"), "primary"
        return t, "primary"
    if ops[("archive", "c")] and ops[("revision", "d")] and not ops[("page", "d")]:
        return "page deletion", "batch"
    if set(ops) == {("archive", "d")}:
        return "purge", "primary"
    if ops[("revision", "c")] and ops[("page", "u")] and not page_c:
        flip = any(r["table"] == "page" and r["op"] == "u" and "page_is_redirect" in changed(r)
                   for r in rows)
        return ("edit, redirect change" if flip else "edit"), "primary"
    if set(ops) <= {("page", "u"), ("user_groups", "c"), ("user_groups", "d"),
                    ("user_groups", "u")}:
        return "follow-up", "followup"
    return "unclassified: " + ", ".join(f"{t} {o}" for t, o in sorted(ops)), "primary"


# ---- shapes ----------------------------------------------------------------------------

def roles(rows, log):
    """A role for each page row: new (inserted in this tx), log page, edited, other."""
    new_pages = {r["after"].get("page_id") for r in rows if r["table"] == "page" and r["op"] == "c"}
    log_page = row_of(log).get("log_page") if log else None
    rev_pages = {row_of(r).get("rev_page") for r in rows if r["table"] == "revision"}
    out = []
    for r in rows:
        if r["table"] != "page":
            out.append("")
            continue
        pid = row_of(r).get("page_id")
        if pid in new_pages:
            out.append("new page")
        elif log_page and pid == log_page:
            out.append("log page")
        elif pid in rev_pages:
            out.append("edited page")
        else:
            out.append("other page")
    return out


def tx_pattern(rows, with_cols=False, counts=False, ctx=None):
    """Ordered steps, consecutive repeats collapsed (with `counts`, shown as `xN`; the
    identity used for comparing ignores how many rows a step has). `ctx` = (db, page ids) of
    the operation's main transaction, for follow-up transactions."""
    log = main_log(rows)
    rl = roles(rows, log)
    db = ctx[0] if ctx else (log or rows[0])["db"]
    steps = []
    for r, role in zip(rows, rl):
        s = f"{r['table']} {r['op']}"
        if role == "other page" and ctx and row_of(r).get("page_id") in ctx[1]:
            role = "the operation's page"
        if role:
            s += f" ({role})"
        if r["table"] == "logging" and r["op"] == "c":
            s += f" {ta(r)}"
        if with_cols and r["op"] == "u":
            s += f" [{','.join(changed(r))}]"
        if r["db"] != db:
            s += " (in the other wiki's database)"
        if steps and steps[-1][0] == s:
            steps[-1][1] += 1
        else:
            steps.append([s, 1])
    return " | ".join(s + (f" x{n}" if counts and n > 1 else "") for s, n in steps)


SAME_SECOND = ("(none: the page already had page_touched or page_links_updated = this second, "
               "so the follow-up UPDATE changed no row)")


def op_ctx(txs):
    primary = txs[-1]
    log = main_log(primary)
    pages = {row_of(r).get("page_id") for t in txs for r in t if r["table"] == "page"}
    pages |= {row_of(r).get("rev_page") for t in txs for r in t if r["table"] == "revision"}
    if log is not None and row_of(log).get("log_page"):
        pages.add(row_of(log).get("log_page"))
    return ((log or primary[0])["db"], pages)


class Side:
    """What one side (MediaWiki or the generator) writes for one kind."""

    def __init__(self):
        self.n = 0
        self.patterns = collections.Counter()        # primary tx pattern -> count
        self.batch_patterns = collections.Counter()
        self.ncols = collections.Counter()           # (table, role, k) -> updates seen
        self.cols = collections.defaultdict(collections.Counter)  # (table, role, k) -> col->n
        self.logs = collections.defaultdict(Ty)      # type/action -> Ty of log_params
        self.log_page = collections.defaultdict(collections.Counter)
        self.props = collections.defaultdict(collections.Counter)
        self.followups = collections.Counter()
        self.examples = []                           # (label, [tx pattern with columns])

    def add(self, inst, batch_size):
        self.n += 1
        txs = inst["txs"]
        primary = txs[-1]
        self.patterns[tx_pattern(primary)] += 1
        for b in txs[:-1]:
            self.batch_patterns[tx_pattern(b)] += 1
        for rows in txs:
            rl = roles(rows, main_log(rows))
            seen = collections.Counter()
            for r, role in zip(rows, rl):
                if r["op"] != "u":
                    continue
                ident = (r["table"], role, json.dumps(
                    {k: row_of(r).get(k) for k in ("page_id", "rev_id", "ar_id", "log_id",
                                                   "ug_user", "ug_group")}, sort_keys=True))
                seen[ident] += 1
                key = (r["table"], role, seen[ident])
                self.ncols[key] += 1
                for c in changed(r):
                    self.cols[key][c] += 1
            for r in log_rows(rows):
                self.logs[ta(r)].add(params_of(r))
                lp = row_of(r).get("log_page")
                pids = {row_of(x).get("page_id") for x in rows if x["table"] == "page"}
                self.log_page[ta(r)]["0" if not lp else
                                     ("the page of the transaction's page rows" if lp in pids
                                      else "another page id")] += 1
        for name, value in properties(inst, batch_size).items():
            self.props[name][value] += 1
        ctx = op_ctx(txs)
        for f in inst["followups"]:
            self.followups[tx_pattern(f, with_cols=True, ctx=ctx)] += 1
        if not inst["followups"]:
            log = main_log(primary)
            now = row_of(log).get("log_timestamp") if log is not None else None
            # An edit has no log row: its time is its revision's.
            now = now or max((row_of(r).get("rev_timestamp") or "" for t in txs for r in t
                              if r["table"] == "revision" and r["op"] == "c"), default=None)
            pre = inst.get("pre_touched", {})
            if now and any(now in pre.get((ctx[0], p), ()) for p in ctx[1]):
                self.followups[SAME_SECOND] += 1
            else:
                self.followups["(none)"] += 1
        if len(self.examples) < 2:
            self.examples.append((inst.get("label", ""),
                                  [tx_pattern(t, with_cols=True, counts=True) for t in txs] +
                                  ["follow-up: " + tx_pattern(f, with_cols=True, counts=True,
                                                              ctx=ctx)
                                   for f in inst["followups"]]))


def properties(inst, batch_size):
    """Invariants relating rows and log_params, per instance; value 'n/a' is not compared."""
    out = {}
    txs = inst["txs"]
    primary = txs[-1]
    log = main_log(primary)
    kind = inst["kind"]
    if kind.startswith("page deletion"):
        sizes = [sum(1 for r in t if r["table"] == "archive" and r["op"] == "c") for t in txs]
        revd = [sum(1 for r in t if r["table"] == "revision" and r["op"] == "d") for t in txs]
        out["every batch: as many revision DELETEs as archive INSERTs"] = \
            "yes" if sizes == revd else f"no ({sizes} vs {revd})"
        out[f"batches of {batch_size} revisions: every non-final batch full, the final one "
            f"1..{batch_size}"] = "yes" if (all(s == batch_size for s in sizes[:-1])
                                           and 1 <= sizes[-1] <= batch_size) else f"no {sizes}"
        rev_bits = {}
        for t in txs:
            for r in t:
                if r["table"] == "revision" and r["op"] == "d":
                    rev_bits[r["before"].get("rev_id")] = r["before"].get("rev_deleted")
        rel = set()
        for t in txs:
            for r in t:
                if r["table"] == "archive" and r["op"] == "c":
                    a = r["after"]
                    old = rev_bits.get(a.get("ar_rev_id"))
                    if a.get("ar_deleted") == old:
                        rel.add("ar_deleted = rev_deleted")
                    elif a.get("ar_deleted") == 15:
                        rel.add("ar_deleted = 15 (all bits)")
                    else:
                        rel.add(f"ar_deleted {a.get('ar_deleted')} from rev_deleted {old}")
        if kind.endswith("suppressed") or rel != {"ar_deleted = rev_deleted"} or \
                any(b for b in rev_bits.values()):
            out["archived visibility"] = " / ".join(sorted(rel))
    if log is not None and ta(log) in ("delete/revision", "suppress/revision"):
        p = params_of(log)
        o, n = pget(p, "6::ofield"), pget(p, "7::nfield")
        try:
            o, n = int(o), int(n)
        except (TypeError, ValueError):
            o = n = None
        ups = [r for r in primary if r["table"] in ("revision", "archive") and r["op"] == "u"]
        col = lambda r: "rev_deleted" if r["table"] == "revision" else "ar_deleted"  # noqa
        pairs = [(r["before"][col(r)], r["after"][col(r)]) for r in ups]
        if o is None or not pairs:
            meaning = "n/a"
        else:
            addrem = all(a == (b | n) & ~o for b, a in pairs)
            oldnew = all((b, a) == (o, n) for b, a in pairs)
            if addrem and oldnew:
                meaning = "n/a"   # e.g. 0 -> 1: both readings agree
            elif addrem:
                meaning = "bits removed / bits added (new = (old | 7::nfield) & ~6::ofield)"
            elif oldnew:
                meaning = "the old / the new rev_deleted value"
            else:
                meaning = f"neither (ofield {o}, nfield {n}, changes {pairs})"
        out["6::ofield / 7::nfield"] = meaning
        if pairs:
            restricted = any((b | a) & 8 for b, a in pairs)
            out["bit 8 (restricted) before or after"] = "yes" if restricted else "no"
    if log is not None and ta(log) in ("move/move", "move/move_redir"):
        nr = pget(params_of(log), "5::noredir")
        has_redirect = any(r["table"] == "page" and r["op"] == "c" for r in primary)
        out["5::noredir vs the redirect page"] = \
            f"5::noredir {column_text(nr) if isinstance(nr, bytes) else nr!r} " \
            f"{'with' if has_redirect else 'without'} a new page"
    if log is not None and ta(log) == "rights/rights":
        p = params_of(log)
        old, new = pget(p, "4::oldgroups"), pget(p, "5::newgroups")
        if isinstance(old, PArr) and isinstance(new, PArr):
            og = [v for _, v in old.items]
            ng = [v for _, v in new.items]
            removed, added = set(og) - set(ng), set(ng) - set(og)
            if removed and not added:
                kept = [i for i, g in enumerate(og) if g in ng]
                for key in ("5::newgroups", "newmetadata"):
                    arr = pget(p, key)
                    name = f"{key} keys after a removal without additions"
                    if kept == list(range(len(kept))) or not isinstance(arr, PArr):
                        out[name] = "n/a"   # the kept groups are a prefix: both readings agree
                        continue
                    keys = [k for k, _ in arr.items]
                    out[name] = ("the old positions (array_diff keeps keys)" if keys == kept
                                 else "renumbered 0..n-1" if keys == list(range(len(keys)))
                                 else f"other {keys} (old positions {kept})")
    if log is not None and ta(log) == "delete/restore":
        p = params_of(log)
        cnt = pget(pget(p, ":assoc:count"), "revisions")
        restored = sum(1 for r in primary if r["table"] == "revision" and r["op"] == "c")
        out[":assoc:count.revisions = restored revision rows"] = \
            "yes" if cnt == restored else f"no ({cnt} vs {restored})"
        bits = all(any(r2["table"] == "archive" and r2["op"] == "d"
                       and r2["before"].get("ar_rev_id") == r["after"].get("rev_id")
                       and r2["before"].get("ar_deleted") == r["after"].get("rev_deleted")
                       for r2 in primary)
                   for r in primary if r["table"] == "revision" and r["op"] == "c")
        out["restored rev_deleted = ar_deleted"] = "yes" if bits else "no"
        latest = max((r["after"].get("rev_timestamp") for r in primary
                      if r["table"] == "revision" and r["op"] == "c"), default=None)
        now = row_of(log).get("log_timestamp")
        for r in primary:
            if r["table"] == "page" and r["op"] == "u" and "page_latest" in changed(r):
                t = r["after"].get("page_touched")
                out["page_touched set by the page_latest UPDATE"] = (
                    "n/a" if latest == now else
                    "the latest restored revision's rev_timestamp" if t == latest else
                    "the operation's time (log_timestamp)" if t == now else "something else")
    return out


def instances(txs, op_label=None):
    """Group classified transactions into operation instances."""
    out, pending, cur = [], [], None
    touched = {}

    def track(rows):
        for r in rows:
            if r["table"] == "page" and r["op"] in ("c", "u"):
                touched[(r["db"], r["after"].get("page_id"))] = (
                    r["after"].get("page_touched"), r["after"].get("page_links_updated"))

    for gtid, rows in txs:
        kind, role = classify(rows)
        if role == "batch":
            pending.append(rows)
            continue
        if role == "followup" and not pending:
            if cur is not None:
                cur["followups"].append(rows)
                track(rows)
                continue
            kind = "follow-up without an operation before it"
        if pending and not kind.startswith("page deletion"):
            out.append({"kind": "page deletion batches without a final batch", "txs": pending,
                        "followups": [], "label": op_label(pending[0][0]["gtid"]) if op_label
                        else ""})
            pending = []
        cur = {"kind": kind, "txs": pending + [rows], "followups": [],
               "label": op_label(gtid) if op_label else ""}
        db, pages = op_ctx(cur["txs"])
        cur["pre_touched"] = {(db, p): touched.get((db, p), ()) for p in pages}
        for t in cur["txs"]:
            track(t)
        pending = []
        out.append(cur)
    if pending:
        out.append({"kind": "page deletion batches without a final batch", "txs": pending,
                    "followups": [], "label": ""})
    return out


# ---- comparing -------------------------------------------------------------------------

def cmp_counters(name, mw, gen):
    """One line when the two sides' sets of values differ (counts are not compared)."""
    if set(mw) == set(gen):
        return []

    def side(c, other):
        tot = sum(c.values())
        return "; ".join(f"{'[only here] ' if k not in other else ''}{k} ({n} of {tot})"
                         for k, n in sorted(c.items(), key=lambda kv: -kv[1])) or "nothing"
    return [f"{name}: MediaWiki: {side(mw, gen)}  <>  generator: {side(gen, mw)}"]


def compare(mw, gen):
    d, notes = [], []
    d += cmp_counters("transaction rows (the operation's last transaction)", mw.patterns,
                      gen.patterns)
    d += cmp_counters("deletion batch transaction rows", mw.batch_patterns, gen.batch_patterns)
    for key in sorted(set(mw.ncols) | set(gen.ncols)):
        table, role, k = key
        where = f"{table} UPDATE{' of the ' + role if role else ''}" + \
            (f" (update #{k} of the row)" if k > 1 else "")
        if key not in mw.ncols or key not in gen.ncols:
            side = "MediaWiki" if key in mw.ncols else "the generator"
            other = "the generator" if key in mw.ncols else "MediaWiki"
            src = mw if key in mw.ncols else gen
            d.append(f"{where}: {side} writes it (columns {dict(src.cols[key])} of "
                     f"{src.ncols[key]}), {other} never")
            continue
        for c in sorted(set(mw.cols[key]) | set(gen.cols[key])):
            a, b = mw.cols[key][c], gen.cols[key][c]
            if bool(a) != bool(b) and c in VALUE_DEPENDENT:
                notes.append(f"{where}: column {c} changes in {a} of {mw.ncols[key]} MediaWiki "
                             f"updates, {b} of {gen.ncols[key]} generator updates (value-"
                             f"dependent: {VALUE_DEPENDENT[c]})")
            elif bool(a) != bool(b) and (c, role) in TIME_DEPENDENT:
                notes.append(f"{where}: column {c} changes in {a} of {mw.ncols[key]} MediaWiki "
                             f"updates, {b} of {gen.ncols[key]} generator updates (time-"
                             f"dependent: {TIME_DEPENDENT[(c, role)]})")
            elif a and not b:
                d.append(f"{where}: column {c} changes in MediaWiki ({a} of {mw.ncols[key]}), "
                         f"never in the generator ({gen.ncols[key]} updates)")
            elif b and not a:
                d.append(f"{where}: column {c} changes in the generator ({b} of "
                         f"{gen.ncols[key]}), never in MediaWiki ({mw.ncols[key]} updates)")
    for t in sorted(set(mw.logs) | set(gen.logs)):
        if t in mw.logs and t in gen.logs:
            d += ty_diff(mw.logs[t], gen.logs[t], f"{t} log_params")
            d += cmp_counters(f"{t} log_page", mw.log_page[t], gen.log_page[t])
    for name in sorted(set(mw.props) | set(gen.props)):
        a = {k: v for k, v in mw.props[name].items() if k != "n/a"}
        b = {k: v for k, v in gen.props[name].items() if k != "n/a"}
        if a and b:
            d += cmp_counters(name, a, b)
    fm, fg = collections.Counter(mw.followups), collections.Counter(gen.followups)
    for side, c in (("MediaWiki", fm), ("generator", fg)):
        if c.pop(SAME_SECOND, 0):
            notes.append(f"follow-up transactions: {side} has operations without one because "
                         f"the page already had page_touched or page_links_updated = this "
                         f"second, so the UPDATE changed no row (timing, not compared)")
    # The rows MediaWiki writes in the other wiki's database (an interwiki rights change)
    # are on this server only when that wiki is: the generator's other wikis
    # (`User@otherwiki`) live elsewhere, where MediaWiki writes them too, and this binlog
    # shows the log row alone.
    elsewhere = [f for f in fm if f != "(none)" and all(
        "(in the other wiki's database)" in part for part in f.split(" | "))]
    for f in elsewhere:
        fm["(none)"] += fm.pop(f)
        notes.append(f"follow-up transactions: MediaWiki writes {f}; the generator's other "
                     f"wikis are not on its server, so only the log row is here (not compared)")
    d += cmp_counters("follow-up transactions", fm, fg)
    return d, notes


def print_example(side, heading):
    """The first example operation of a side: its label and its transactions' patterns."""
    for label, pats in side.examples[:1]:
        print(f"      {heading}{' ' + label if label else ''}:")
        for p in pats:
            print(f"          {p}")


def summarize_sides(insts, batch_size):
    sides = collections.defaultdict(Side)
    for inst in insts:
        sides[inst["kind"]].add(inst, batch_size)
    return sides


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--mwcdc", default=os.path.join(REPO, "target/debug/mwcdc"))
    ap.add_argument("--workload", default=os.path.join(REPO, "target/debug/mwcdc-workload"))
    ap.add_argument("--generated", nargs=2, metavar=("BEFORE", "AFTER"),
                    help="do not run the generator: it was run with these settings (one "
                         "wiki, --create-schema true) between these GTID positions")
    ap.add_argument("--ops", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db-prefix", default="mwcdc_drift_")
    ap.add_argument("--batch-size", type=int, default=None,
                    help="--delete-batch-size of the generator (default: MediaWiki's, as its "
                         "deletions show, else 2)")
    ap.add_argument("--keep", help="write the row records and the truth into this directory")
    ap.add_argument("--reuse", metavar="DIR",
                    help="do not run anything: read mediawiki-rows.jsonl and generator-rows.jsonl "
                         "of an earlier --keep DIR (generator database <db-prefix>0)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every kind's shapes")
    args = ap.parse_args()
    with open(args.scenario) as f:
        sc = json.load(f)
    work = args.keep or tempfile.mkdtemp(prefix="mwcdc-drift-")
    os.makedirs(work, exist_ok=True)
    port = os.environ.get("MWCDC_MARIADB_PORT", "3307")

    # 1. MediaWiki's row changes.
    if args.reuse:
        work = args.reuse
    mw_path = os.path.join(work, "mediawiki-rows.jsonl")
    if not args.reuse:
        wait_for(args.mwcdc, "mwcdc")
        check.run_mwcdc(args.mwcdc, sc, "all", mw_path, entities=False)
    mw_dbs = set(sc["wikis"].values())
    mw_txs = read_transactions(mw_path, mw_dbs)
    spans = [(check.parse_pos(o["pos_before"]), check.parse_pos(o["pos_after"]), i, o)
             for i, o in enumerate(sc["operations"])]

    def op_label(gtid):
        d, n = check.gtid_parts(gtid)
        for b, a, i, o in spans:
            if b.get(d, 0) < n <= a.get(d, 0):
                return f"op#{i} [{o['db']}] {o['name']}"
        return "outside every operation"
    mw_insts = instances(mw_txs, op_label)
    crossing = []
    for inst in mw_insts:
        labels = {op_label(rows[0]["gtid"]) for rows in inst["txs"] + inst["followups"]}
        if len(labels) > 1:
            crossing.append((inst["kind"], sorted(labels)))

    batch = args.batch_size
    if batch is None:
        sizes = [sum(1 for r in rows if r["table"] == "archive" and r["op"] == "c")
                 for inst in mw_insts if inst["kind"].startswith("page deletion")
                 and len(inst["txs"]) > 1 for rows in inst["txs"]]
        batch = max(sizes) if sizes else 2

    # 2. The generator's row changes.
    truth = os.path.join(work, "truth.jsonl")
    cmd = [args.workload, "--url", f"mysql://mwcdc_admin:admin-secret@127.0.0.1:{port}",
           "--wikis", "1", "--ops", str(args.ops), "--seed", str(args.seed), "--big-pages", "0",
           "--db-prefix", args.db_prefix, "--truth", truth, "--delete-batch-size", str(batch),
           "--create-schema", "true"]
    gen_db = args.db_prefix + "0"
    gen_path = os.path.join(work, "generator-rows.jsonl")
    if args.reuse:
        before = after = "(reused)"
        res = subprocess.CompletedProcess(cmd, 0, "", f"(rows reused from {work})")
    elif args.generated:
        # A run made by the caller with these arguments (the integration test runs the
        # generator's library in its own process).
        before, after = args.generated
        res = subprocess.CompletedProcess(cmd, 0, "", "(run by the caller)")
        gen_sc = {"wikis": {"gen": gen_db}, "start_position": before, "end_position": after}
        check.run_mwcdc(args.mwcdc, gen_sc, "all", gen_path, entities=False)
    else:
        wait_for(args.workload, "mwcdc-workload")
        before = gtid_pos()
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"mwcdc-workload exited {res.returncode}: {res.stderr[-2000:]}")
        after = gtid_pos()
        gen_sc = {"wikis": {"gen": gen_db}, "start_position": before, "end_position": after}
        check.run_mwcdc(args.mwcdc, gen_sc, "all", gen_path, entities=False)
    gen_txs = read_transactions(gen_path, {gen_db})
    gen_insts = instances(gen_txs)

    print(f"MediaWiki: scenario {sc.get('run_id')} {sorted(mw_dbs)} "
          f"{sc['start_position']} -> {sc['end_position']}: {len(mw_txs)} transactions with "
          f"rows of {', '.join(TABLES)}, {len(mw_insts)} operations")
    print(f"generator: {' '.join(cmd[1:3])} ... {' '.join(cmd[5:])}".replace(
        "admin-secret", "***"))
    print(f"           {res.stderr.strip()}")
    print(f"           {gen_db} {before} -> {after}: {len(gen_txs)} transactions, "
          f"{len(gen_insts)} operations")
    for kind, labels in crossing:
        print(f"note: a MediaWiki {kind} operation spans scenario operations {labels}")

    mw_sides = summarize_sides(mw_insts, batch)
    gen_sides = summarize_sides(gen_insts, batch)
    kinds = sorted(set(mw_sides) | set(gen_sides),
                   key=lambda k: (k not in gen_sides, k not in mw_sides, k))
    compared = drifts = 0
    failures = []
    print()
    print(f"{'kind':48} {'MW':>4} {'gen':>5}  result")
    for k in kinds:
        m, g = mw_sides.get(k), gen_sides.get(k)
        if m and g:
            compared += 1
            diffs, notes = compare(m, g)
            status = "equal" if not diffs else f"DIFFERS ({len(diffs)})"
            print(f"{k:48} {m.n:>4} {g.n:>5}  {status}")
            for line in notes:
                print(f"      note: {line}")
            if diffs:
                drifts += 1
                failures.append(k)
                for line in diffs:
                    print(f"      - {line}")
                for who, side in (("MediaWiki", m), ("generator", g)):
                    print_example(side, f"{who} example")
            elif args.verbose:
                print_example(m, "example")
        elif g:
            claimed = CLAIMED_KINDS.get(k)
            if claimed:
                failures.append(k)
                print(f"{k:48} {'-':>4} {g.n:>5}  ONLY IN THE GENERATOR: claimed by "
                      f"docs/workload.md ({claimed!r}), no MediaWiki counterpart in the scenario")
            else:
                print(f"{k:48} {'-':>4} {g.n:>5}  only in the generator (not claimed by "
                      f"docs/workload.md)")
            for label, pats in g.examples[:1]:
                for p in pats:
                    print(f"          {p}")
        else:
            print(f"{k:48} {m.n:>4} {'-':>5}  only in MediaWiki: not modelled by the generator")
            if args.verbose:
                print_example(m, "example")
    missing = [row for row, ks in CLAIMED.items() if not any(x in gen_sides for x in ks)]
    for row in missing:
        print(f"note: the generator run produced no {row!r} operation (raise --ops)")
    print()
    print(f"kinds: {len(kinds)}, compared: {compared}, drifts: {drifts}")
    print(f"(row records kept in {work})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
