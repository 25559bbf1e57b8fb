#!/usr/bin/env python3
"""Compare mwcdc's entity records with MediaWiki's own view of a scenario.

Usage:
  tests/mediawiki/check.py SCENARIO.json RECORDS.jsonl --mode {all,default,logging}
  tests/mediawiki/check.py SCENARIO.json RECORDS.jsonl --mode all --run-mwcdc [BIN]
      (runs mwcdc first: stdout sink, from the scenario's start position to its end,
      capturing the mode's tables of the scenario's wikis, and writes RECORDS.jsonl)

SCENARIO.json is tests/mediawiki/scenario.py's output; RECORDS.jsonl holds mwcdc's stdout sink
lines ({"topic", "key", "value", "headers"}). The expected entity changes are derived from
MediaWiki's views (consecutive views of a wiki diffed per operation: revisions appearing in or
moving between the live and the archived sets, visibility flags, log events, pages, group
memberships), not from a model of the rows; where docs/record-format.md says a capture mode
cannot know something, the mode's documented record is expected instead.

Modes (source.include): all = revision, archive, logging, page, user_groups;
default = revision, archive, logging; logging = logging alone.

Prints `checks: N, mismatches: M` and one line per mismatch; exit status 1 on any mismatch.
Records are validated against docs/schemas/entity.schema.json when python's jsonschema is
installed (else that is skipped and said).
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = os.path.join(REPO, "docs/schemas")

MODES = {
    "all": ["revision", "archive", "logging", "page", "user_groups"],
    "default": ["revision", "archive", "logging"],
    "logging": ["logging"],
}


# ---- helpers ---------------------------------------------------------------------------

def ts14(iso):
    """2026-12-06T18:58:08Z -> 20261206185808"""
    return iso.replace("-", "").replace(":", "").replace("T", "").replace("Z", "")


def rfc(iso):
    return iso if iso.endswith("Z") else iso + "Z"


def title_db(title):
    """Page title as the tables hold it (namespace prefix off, underscores)."""
    for ns in ("User:", "Special:"):
        if title.startswith(ns):
            title = title[len(ns):]
    return title.replace(" ", "_")


def expiry14(exp):
    if exp in (None, "infinity", "infinite"):
        return None
    return ts14(exp)


def sha1_36(hex40):
    if not hex40:
        return None
    n = int(hex40, 16)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out.rjust(31, "0")


def parse_pos(pos):
    out = {}
    for part in filter(None, (p.strip() for p in (pos or "").split(","))):
        d, s, n = part.split("-")
        out[int(d)] = int(n)
    return out


def gtid_parts(gtid):
    d, s, n = gtid.split("-")
    return int(d), int(n)


def get(obj, path):
    for p in path.split("."):
        if not isinstance(obj, dict) or p not in obj:
            return MISSING
        obj = obj[p]
    return obj


class _Missing:
    def __repr__(self):
        return "<missing>"


MISSING = _Missing()


def as_list(v):
    """A decoded PHP array: JSON list, or object with string keys (non-sequential keys)."""
    if isinstance(v, dict):
        return [v[k] for k in sorted(v, key=lambda k: (len(k), k))]
    return list(v or [])


def norm(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return int(v)
    if isinstance(v, str) and v.lstrip("-").isdigit():
        return int(v)
    return v


# ---- expected changes ------------------------------------------------------------------

class Exp:
    """One expected entity change: entity, key, action and field checks."""

    def __init__(self, entity, key, action, checks=None, why="", optional_log=None):
        self.entity, self.key, self.action = entity, key, action
        self.checks = checks or {}
        self.why = why
        self.optional_log = optional_log  # set of acceptable log_ids (None allowed) or None

    def keystr(self):
        return f"{self.entity}:{self.key}"


def rec_key(rec):
    v = rec["value"]
    e, k = v["entity"], v["key"]
    if e == "revision":
        return f"revision:{k['rev_id']}"
    if e == "page":
        return f"page:{k['page_id']}"
    if e == "log":
        return f"log:{k['log_id']}"
    if "ug_user" in k:
        return f"user_group:{k['ug_user']}:{k['ug_group']}"
    return f"user_group:{k['user_wiki']}:{k['user_name']}:{k['ug_group']}"


def new_logs(prev, cur):
    return [cur["logs"][k] for k in sorted(cur["logs"], key=int) if k not in prev["logs"]]


def logs_of(logs, types):
    return [l for l in logs if (l["type"], l["action"]) in types]


def expected_changes(mode, db, prev, cur, op_logs_all):
    """Expected entity changes of one operation on one wiki (db), from its views."""
    tables = set(MODES[mode])
    out = []
    nlogs = new_logs(prev, cur)
    revdel_logs = [l for l in nlogs if (l["type"], l["action"]) in
                   {("delete", "revision"), ("suppress", "revision")}]
    block_logs = logs_of(nlogs, {("suppress", "block"), ("block", "unblock"), ("block", "block")})

    # Revisions.
    PL, PA, NL, NA = prev["revisions"], prev["deleted"], cur["revisions"], cur["deleted"]
    if "revision" in tables:
        for rid in sorted(set(NL) | set(NA) | set(PL) | set(PA), key=int):
            p_live, p_arch, n_live, n_arch = PL.get(rid), PA.get(rid), NL.get(rid), NA.get(rid)
            key = int(rid)
            if n_live and not p_live and not p_arch:
                r = n_live
                out.append(Exp("revision", key, "create", {
                    "data.rev_id": key, "data.rev_page": r["page_id"],
                    "data.rev_timestamp": ts14(r["timestamp"]), "data.rev_deleted": r["bits"],
                    "data.rev_len": r["size"], "data.rev_minor_edit": int(r["minor"]),
                    "data.rev_parent_id": r["parent_id"], "data.rev_sha1": sha1_36(r["sha1"]),
                    "entity_ts": rfc(r["timestamp"]), "log": None}, "new live revision"))
            elif p_live and n_arch:
                r = n_arch
                out.append(Exp("revision", key, "archive", {
                    "data.ar_rev_id": key, "data.ar_page_id": p_live["page_id"],
                    "data.ar_title": title_db(r["title"]), "data.ar_timestamp": ts14(r["timestamp"]),
                    "data.ar_deleted": r["bits"], "prior.rev_deleted": p_live["bits"],
                    "entity_ts": rfc(r["timestamp"]), "log": None},
                    "live revision now archived"))
            elif p_arch and n_live:
                r = n_live
                out.append(Exp("revision", key, "restore", {
                    "data.rev_id": key, "data.rev_page": r["page_id"],
                    "data.rev_timestamp": ts14(r["timestamp"]), "data.rev_deleted": r["bits"],
                    "prior.ar_deleted": p_arch["bits"], "entity_ts": rfc(r["timestamp"]),
                    "log": None}, "archived revision restored (original timestamp)"))
            elif p_live and n_live:
                if p_live["bits"] != n_live["bits"]:
                    out.append(visibility_exp(key, p_live, n_live, "rev", revdel_logs,
                                              block_logs))
                if p_live["page_id"] != n_live["page_id"]:
                    out.append(Exp("revision", key, "update", {
                        "data.rev_page": n_live["page_id"], "prior.rev_page": p_live["page_id"],
                        "changed": ["rev_page"], "log": None}, "revision moved to another page"))
            elif p_arch and n_arch:
                if p_arch["bits"] != n_arch["bits"]:
                    out.append(visibility_exp(key, p_arch, n_arch, "ar", revdel_logs,
                                              block_logs))
            elif (p_live or p_arch) and not (n_live or n_arch):
                out.append(Exp("revision", key, "purge" if p_arch else "delete", {},
                               "revision gone"))
    else:
        # logging alone: one visibility_change per id of a revision deletion log row with
        # 4::type revision, carrying the bits added and removed (docs/record-format.md). They
        # are checked against MediaWiki's own old and new bits of each revision: the request's
        # added bits must be set afterwards, its removed bits clear, and
        # (old | added) & ~removed must give MediaWiki's new bits.
        for l in revdel_logs:
            params = l.get("params", {})
            if params.get("type") != "revision":
                continue
            for rid in params.get("ids", []):
                rid = str(rid)
                before = PL.get(rid) or PA.get(rid)
                after = NL.get(rid) or NA.get(rid)
                checks = {"data.rev_id": int(rid), "log.log_id": l["logid"],
                          "entity_ts": rfc(l["timestamp"]), "prior": None,
                          "data.visibility_added": vis(params["new"]["bitmask"]),
                          "data.visibility_removed": vis(params["old"]["bitmask"])}
                if before and after:
                    checks["apply:" + str(before["bits"])] = after["bits"]
                out.append(Exp("revision", int(rid), "visibility_change", checks,
                               f"log-only revision deletion ({before and before['bits']} -> "
                               f"{after and after['bits']} in MediaWiki)"))

    # Log entries: every new one is a create; changed log_deleted an update.
    for l in nlogs:
        out.append(log_create_exp(l))
    for k, l in cur["logs"].items():
        p = prev["logs"].get(k)
        if p and p["bits"] != l["bits"]:
            out.append(Exp("log", l["logid"], "update", {
                "data.log_deleted": l["bits"], "changed": ["log_deleted"]},
                f"log_deleted {p['bits']} -> {l['bits']}"))
        elif p and p["title"] != l["title"]:
            out.append(Exp("log", l["logid"], "update", {"data.log_title": title_db(l["title"])},
                           "log title changed"))

    # Pages.
    PP, NP = prev["pages"], cur["pages"]
    if "page" in tables:
        restored = {l["logpage"]: l for l in logs_of(nlogs, {("delete", "restore")})}
        created = {l["logpage"]: l for l in logs_of(nlogs, {("create", "create")})}
        deleted = {}
        for l in logs_of(nlogs, {("delete", "delete"), ("delete", "delete_redir"),
                                  ("suppress", "delete")}):
            deleted[l["logpage"]] = l
        moves = {l["logpage"]: l for l in logs_of(nlogs, {("move", "move"), ("move", "move_redir")})}
        imports = [l for l in nlogs if l["type"] == "import"]
        for pid in sorted(set(PP) | set(NP), key=int):
            p, n = PP.get(pid), NP.get(pid)
            ipid = int(pid)
            if n and not p:
                if ipid in restored:
                    l = restored[ipid]
                    out.append(Exp("page", ipid, "undelete", {
                        "data.page_id": ipid, "data.page_title": title_db(n["title"]),
                        "data.restored_revisions": l["params"]["count"]["revisions"],
                        "log.log_id": l["logid"], "entity_ts": rfc(l["timestamp"])},
                        "page back after undeletion"))
                else:
                    chk = {"data.page_id": ipid, "data.page_title": title_db(n["title"]),
                           "data.page_namespace": n["ns"],
                           "data.page_is_redirect": int(n["redirect"])}
                    opt = None
                    if ipid in created:
                        chk["log.log_id"] = created[ipid]["logid"]
                        chk["entity_ts"] = rfc(created[ipid]["timestamp"])
                    elif imports:
                        opt = {None} | {l["logid"] for l in imports}
                    else:
                        chk["log"] = None  # the redirect a move leaves behind
                    out.append(Exp("page", ipid, "create", chk, "new page", optional_log=opt))
            elif p and not n:
                chk = {"data.page_id": ipid, "data.page_title": title_db(p["title"])}
                if ipid in deleted:
                    chk["log.log_id"] = deleted[ipid]["logid"]
                    chk["entity_ts"] = rfc(deleted[ipid]["timestamp"])
                out.append(Exp("page", ipid, "delete", chk, "page gone"))
            elif p and n:
                if ipid in restored:
                    # revisions restored into a page that exists (a second partial
                    # undeletion): no page INSERT; the delete/restore log row still says it
                    l = restored[ipid]
                    out.append(Exp("page", ipid, "undelete", {
                        "data.page_id": ipid,
                        "data.restored_revisions": l["params"]["count"]["revisions"],
                        "log.log_id": l["logid"], "entity_ts": rfc(l["timestamp"])},
                        "restore log row for an existing page"))
                if (p["title"], p["ns"]) != (n["title"], n["ns"]):
                    chk = {"data.page_title": title_db(n["title"]),
                           "data.page_namespace": n["ns"],
                           "prior.page_title": title_db(p["title"]),
                           "prior.page_namespace": p["ns"]}
                    if ipid in moves:
                        chk["log.log_id"] = moves[ipid]["logid"]
                        chk["entity_ts"] = rfc(moves[ipid]["timestamp"])
                    out.append(Exp("page", ipid, "move", chk, "page title changed"))
                if p["redirect"] != n["redirect"]:
                    out.append(Exp("page", ipid, "redirect_change", {
                        "data.page_is_redirect": int(n["redirect"]),
                        "prior.page_is_redirect": int(p["redirect"])}, "redirect flag flipped"))
    else:
        for l in nlogs:
            ta = (l["type"], l["action"])
            lp = l.get("logpage") or None
            if ta == ("create", "create"):
                out.append(Exp("page", lp, "create", {
                    "data.page_id": lp, "data.page_namespace": l["ns"],
                    "data.page_title": title_db(l["title"]), "log.log_id": l["logid"],
                    "entity_ts": rfc(l["timestamp"])}, "create/create log row"))
            elif ta in (("move", "move"), ("move", "move_redir")):
                out.append(Exp("page", lp, "move", {
                    "data.page_id": lp, "data.title_text": l["params"]["target_title"],
                    "prior.page_namespace": l["ns"], "prior.page_title": title_db(l["title"]),
                    "log.log_id": l["logid"], "entity_ts": rfc(l["timestamp"])},
                    "move log row"))
            elif ta in (("delete", "delete"), ("delete", "delete_redir"), ("suppress", "delete")):
                out.append(Exp("page", lp, "delete", {
                    "data.page_id": lp, "log.log_id": l["logid"],
                    "entity_ts": rfc(l["timestamp"])}, "delete log row"))
            elif ta == ("delete", "restore"):
                out.append(Exp("page", lp, "undelete", {
                    "data.page_id": lp,
                    "data.restored_revisions": l["params"]["count"]["revisions"],
                    "log.log_id": l["logid"], "entity_ts": rfc(l["timestamp"])},
                    "restore log row"))

    # User groups.
    rights = logs_of(nlogs, {("rights", "rights")})
    local_rights = [l for l in rights if "@" not in l["title"]]
    foreign_rights = [l for l in rights if "@" in l["title"]]
    if "user_groups" in tables:
        PU, NU = prev["users"], cur["users"]
        for uid in sorted(set(PU) | set(NU), key=int):
            pg = (PU.get(uid) or {}).get("groups", {})
            ng = (NU.get(uid) or {}).get("groups", {})
            name = (NU.get(uid) or PU.get(uid))["name"]
            lg = [l for l in local_rights if title_db(l["title"]) == name.replace(" ", "_")]
            logchk = {"log.log_id": lg[0]["logid"], "entity_ts": rfc(lg[0]["timestamp"])} \
                if len(lg) == 1 else {}
            for g in sorted(set(pg) | set(ng)):
                key = f"{int(uid)}:{g}"
                if g in ng and g not in pg:
                    out.append(Exp("user_group", key, "add", dict(
                        {"data.ug_user": int(uid), "data.ug_group": g,
                         "data.ug_expiry": expiry14(ng[g])}, **logchk), "group added"))
                elif g in pg and g not in ng:
                    out.append(Exp("user_group", key, "remove", dict(
                        {"data.ug_user": int(uid), "data.ug_group": g}, **logchk),
                        "group removed"))
                elif pg[g] != ng[g]:
                    out.append(Exp("user_group", key, "expiry_change", dict(
                        {"data.ug_expiry": expiry14(ng[g]), "prior.ug_expiry": expiry14(pg[g])},
                        **logchk), "expiry changed"))
        log_rows = foreign_rights  # another wiki's user: from the log row whatever is captured
    else:
        log_rows = rights
    for l in log_rows:
        out.extend(rights_log_exps(l, db))
    return out


def vis(bits):
    return {"text": bool(bits & 1), "comment": bool(bits & 2), "user": bool(bits & 4),
            "restricted": bool(bits & 8)}


def unvis(v):
    if not isinstance(v, dict):
        return MISSING
    return (1 if v.get("text") else 0) | (2 if v.get("comment") else 0) | \
        (4 if v.get("user") else 0) | (8 if v.get("restricted") else 0)


def visibility_exp(key, before, after, prefix, revdel_logs, block_logs):
    col = "rev_deleted" if prefix == "rev" else "ar_deleted"
    chk = {f"data.{col}": after["bits"], f"prior.{col}": before["bits"], "changed": [col]}
    opt = None
    if revdel_logs:
        ids = [l["logid"] for l in revdel_logs]
        if len(ids) == 1:
            chk["log.log_id"] = ids[0]
    elif len(block_logs) == 1:
        # RevisionDeleteUser (block with hidename / its unblock): the block log row, the only
        # one of the transaction (docs/record-format.md)
        chk["log.log_id"] = block_logs[0]["logid"]
    elif block_logs:
        opt = {None} | {l["logid"] for l in block_logs}
    return Exp("revision", key, "visibility_change", chk,
               f"{col} {before['bits']} -> {after['bits']}", optional_log=opt)


def log_create_exp(l):
    chk = {"data.log_id": l["logid"], "data.log_type": l["type"],
           "data.log_action": l["action"], "data.log_timestamp": ts14(l["timestamp"]),
           "data.log_namespace": l["ns"], "data.log_title": title_db(l["title"]),
           "data.log_deleted": l["bits"], "entity_ts": rfc(l["timestamp"])}
    if "logpage" in l:
        chk["data.log_page"] = l["logpage"]
    p = l.get("params", {})
    ta = (l["type"], l["action"])
    lp = "data.log_params."
    if ta in (("move", "move"), ("move", "move_redir")):
        chk[lp + "4::target"] = p["target_title"]
        chk[lp + "5::noredir"] = "1" if p.get("suppressredirect") else "0"
    elif l["type"] in ("delete", "suppress") and l["action"] == "revision":
        chk[lp + "4::type"] = p.get("type")
        chk["norm:" + lp + "5::ids"] = [str(i) for i in p.get("ids", [])]
        chk["int:" + lp + "6::ofield"] = p["old"]["bitmask"]
        chk["int:" + lp + "7::nfield"] = p["new"]["bitmask"]
    elif l["type"] in ("delete", "suppress") and l["action"] == "event":
        # log entry deletion (RevDelLogList): no type field
        chk["norm:" + lp + "4::ids"] = [str(i) for i in p.get("ids", [])]
        chk["int:" + lp + "5::ofield"] = p["old"]["bitmask"]
        chk["int:" + lp + "6::nfield"] = p["new"]["bitmask"]
    elif ta == ("delete", "restore"):
        chk[lp + ":assoc:count.revisions"] = p["count"]["revisions"]
    elif ta == ("rights", "rights"):
        chk["set:" + lp + "4::oldgroups"] = sorted(p.get("oldgroups", []))
        chk["set:" + lp + "5::newgroups"] = sorted(p.get("newgroups", []))
    elif ta == ("merge", "merge"):
        chk[lp + "4::dest"] = p["dest_title"]
        chk[lp + "5::mergepoint"] = ts14(p["mergepoint"])
    elif l["type"] == "renameuser":
        chk[lp + "4::olduser"] = p["olduser"]
        chk[lp + "5::newuser"] = p["newuser"]
    elif l["type"] == "import":
        chk["int:" + lp + "4:number:count"] = p.get("count")
    return Exp("log", l["logid"], "create", chk, f"log {l['type']}/{l['action']}")


def rights_log_exps(l, db):
    title = l["title"][len("User:"):] if l["title"].startswith("User:") else l["title"]
    name, _, wiki = title.partition("@")
    wiki = wiki.replace(" ", "_") or db  # the API shows the title with spaces
    name = name.replace(" ", "_")
    p = l.get("params", {})
    old, new = list(p.get("oldgroups", [])), list(p.get("newgroups", []))
    oldmeta = {m["group"]: m.get("expiry") for m in p.get("oldmetadata", []) if "group" in m}
    newmeta = {m["group"]: m.get("expiry") for m in p.get("newmetadata", []) if "group" in m}
    out = []
    base = {"data.user_name": name, "data.user_wiki": wiki, "log.log_id": l["logid"],
            "entity_ts": rfc(l["timestamp"])}
    for g in sorted(set(old) | set(new)):
        key = f"{wiki}:{name}:{g}"
        if g in new and g not in old:
            out.append(Exp("user_group", key, "add", dict(
                base, **{"data.ug_group": g, "data.ug_expiry": expiry14(newmeta.get(g))}),
                "rights log row: group added"))
        elif g in old and g not in new:
            out.append(Exp("user_group", key, "remove", dict(
                base, **{"data.ug_group": g, "prior.ug_expiry": expiry14(oldmeta.get(g))}),
                "rights log row: group removed"))
        elif expiry14(oldmeta.get(g)) != expiry14(newmeta.get(g)):
            out.append(Exp("user_group", key, "expiry_change", dict(
                base, **{"data.ug_group": g, "data.ug_expiry": expiry14(newmeta.get(g)),
                         "prior.ug_expiry": expiry14(oldmeta.get(g))}),
                "rights log row: expiry changed"))
    return out


# ---- comparing -------------------------------------------------------------------------

def check_field(rec, path, want):
    if path.startswith("apply:"):
        old = int(path.split(":", 1)[1])
        d = rec["value"].get("data") or {}
        added, removed = unvis(d.get("visibility_added")), unvis(d.get("visibility_removed"))
        if added is MISSING or removed is MISSING:
            return False, "no visibility_added/visibility_removed"
        got = (old | added) & ~removed
        return got == want, f"(old {old} | added {added}) & ~removed {removed} = {got}"
    kind = None
    if ":" in path.split(".")[0] and path.split(":", 1)[0] in ("norm", "int", "set"):
        kind, path = path.split(":", 1)
    # log_params keys contain '.'-free names like "4::target"; ":assoc:count.revisions" too.
    if path.startswith("data.log_params."):
        lp = get(rec["value"], "data.log_params")
        rest = path[len("data.log_params."):]
        if rest.startswith(":assoc:count."):
            got = get(lp, ":assoc:count") if isinstance(lp, dict) else MISSING
            got = get(got, rest[len(":assoc:count."):]) if got is not MISSING else MISSING
        else:
            got = lp.get(rest, MISSING) if isinstance(lp, dict) else MISSING
    else:
        got = get(rec["value"], path)
    if kind == "norm" and got is not MISSING:
        got = [str(x) for x in as_list(got)]
    elif kind == "int" and got is not MISSING:
        got = norm(got)
    elif kind == "set" and got is not MISSING:
        got = sorted(as_list(got))
    if path == "changed" and isinstance(got, list):
        return all(c in got for c in want), got
    if isinstance(want, int) and not isinstance(want, bool) and isinstance(got, (int, str)):
        return norm(got) == want, got
    return got == want, got


def load_records(path, wikis):
    recs = []
    with open(path) as f:
        for n, line in enumerate(f):
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            v = r.get("value")
            if not isinstance(v, dict) or "entity" not in v or "action" not in v:
                continue
            if v.get("wiki") not in wikis:
                continue
            r["_line"] = n + 1
            recs.append(r)
    return recs


def schema_validator():
    try:
        import jsonschema
        from referencing import Registry, Resource
    except ImportError:
        return None
    resources = []
    for name in sorted(os.listdir(SCHEMAS)):
        if name.endswith(".json"):
            with open(os.path.join(SCHEMAS, name)) as f:
                resources.append((f"https://mwcdc.test/schemas/{name}", Resource.from_contents(json.load(f))))
    registry = Registry().with_resources(resources)
    return jsonschema.Draft202012Validator({"$ref": "https://mwcdc.test/schemas/entity.schema.json"},
                                           registry=registry)


def run_mwcdc(binary, scenario, mode, out_path, entities=True):
    dbs = sorted(scenario["wikis"].values())
    include = [f"{db}.{t}" for db in dbs for t in MODES[mode]] if entities else \
        [f"{db}.*" for db in dbs]
    state = tempfile.mkdtemp(prefix="mwcdc-check-")
    cfg = os.path.join(state, "mwcdc.toml")
    with open(cfg, "w") as f:
        f.write(f'''name = "mwtest"
[source]
url = "mysql://cdc@127.0.0.1:{os.environ.get("MWCDC_MARIADB_PORT", "3307")}"
server_id = {7700 + os.getpid() % 200}
include = {json.dumps(include)}
start = "{scenario["start_position"]}"
stop = "{scenario["end_position"]}"
[sink]
type = "stdout"
[checkpoint]
dir = "{state}/state"
[http]
listen = ""
[output]
entities = {"true" if entities else "false"}
rows = {"false" if entities else "true"}
''')
    env = dict(os.environ, MWCDC_SOURCE_PASSWORD=os.environ.get("MWCDC_TEST_CDC_PASSWORD",
                                                                  "cdc-secret"))
    with open(out_path, "w") as out, open(os.path.join(state, "stderr.log"), "w") as err:
        rc = subprocess.run([binary, "run", "--config", cfg], stdout=out, stderr=err,
                            env=env, timeout=600).returncode
    if rc != 0:
        sys.exit(f"mwcdc exited {rc}; see {state}/stderr.log")
    return out_path


def main():
    ap = argparse.ArgumentParser(description="compare mwcdc entity records with MediaWiki")
    ap.add_argument("scenario")
    ap.add_argument("records")
    ap.add_argument("--mode", choices=sorted(MODES), required=True)
    ap.add_argument("--run-mwcdc", nargs="?", const=os.path.join(REPO, "target/debug/mwcdc"),
                    metavar="BIN", help="run mwcdc first and write RECORDS")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list matched changes")
    args = ap.parse_args()
    with open(args.scenario) as f:
        sc = json.load(f)
    if args.run_mwcdc:
        run_mwcdc(args.run_mwcdc, sc, args.mode, args.records)
    wikis = {w: db for w, db in sc["wikis"].items()}
    dbs = set(wikis.values())
    recs = load_records(args.records, dbs)

    checks, mism = 0, []

    def bad(op, what, expected, got):
        mism.append(f"MISMATCH op#{op[0]} [{op[1]}] {op[2]}: {what}: expected {expected}; got {got}")

    validator = schema_validator()
    if validator is None:
        print("schema validation skipped: python jsonschema/referencing not installed")
    else:
        for r in recs:
            checks += 1
            errs = sorted(validator.iter_errors(r["value"]), key=lambda e: list(e.path))
            if errs:
                bad(("-", r["value"]["wiki"], "schema"), f"record line {r['_line']} "
                    f"{r['value']['id']}", "valid against entity.schema.json",
                    "; ".join(e.message[:200] for e in errs[:3]))

    # Assign records to operations by GTID.
    ops = sc["operations"]
    spans = [(parse_pos(o["pos_before"]), parse_pos(o["pos_after"])) for o in ops]
    by_op = collections.defaultdict(list)
    for r in recs:
        d, n = gtid_parts(r["value"]["gtid"])
        for i, (b, a) in enumerate(spans):
            if b.get(d, 0) < n <= a.get(d, 0):
                by_op[i].append(r)
                break
        else:
            checks += 1
            bad(("-", r["value"]["wiki"], "outside every operation"),
                f"{rec_key(r)} {r['value']['action']} gtid {r['value']['gtid']}",
                "no record", r["value"]["id"])

    # Per key, file order must follow commit order.
    last = {}
    for r in recs:
        k = (r["value"]["wiki"], rec_key(r))
        d, n = gtid_parts(r["value"]["gtid"])
        checks += 1
        if k in last and last[k] > n:
            bad(("-", r["value"]["wiki"], "order"), k, "records of a key in commit order",
                f"gtid {r['value']['gtid']} after seq {last[k]}")
        last[k] = n

    views = {w: sc["initial_views"][w] for w in sc["initial_views"]}
    summary = collections.Counter()
    for i, op in enumerate(ops):
        for w, cur in op["views"].items():
            db = wikis[w]
            exps = expected_changes(args.mode, db, views[w], cur, None)
            views[w] = cur
            got = [r for r in by_op[i] if r["value"]["wiki"] == db]
            tag = (i, db, op["name"])
            exp_by = collections.defaultdict(list)
            for e in exps:
                exp_by[e.keystr()].append(e)
            got_by = collections.defaultdict(list)
            for r in got:
                got_by[rec_key(r)].append(r)
            # user_group records from a log row of another wiki are keyed by the user's wiki
            for k in sorted(set(exp_by) | set(got_by)):
                es, rs = exp_by.get(k, []), got_by.get(k, [])
                checks += 1
                ea = [e.action for e in es]
                ra = [r["value"]["action"] for r in rs]
                if ea != ra:
                    bad(tag, k, f"actions {ea} ({'; '.join(e.why for e in es) or 'no change in MediaWiki'})",
                        f"{ra} " + " | ".join(brief(r) for r in rs))
                    continue
                for e, r in zip(es, rs):
                    summary[f"{e.entity}/{e.action}"] += 1
                    for path, want in e.checks.items():
                        checks += 1
                        ok, g = check_field(r, path, want)
                        if not ok:
                            bad(tag, f"{k} {e.action} {path}", repr(want), f"{g!r}  [{r['value']['id']}]")
                    if e.optional_log is not None:
                        checks += 1
                        lid = (r["value"].get("log") or {}).get("log_id")
                        if lid not in e.optional_log:
                            bad(tag, f"{k} {e.action} log", f"one of {sorted(e.optional_log, key=str)}", lid)
                    if args.verbose:
                        print(f"ok op#{i} {db} {op['name']}: {k} {e.action} "
                              f"log={(r['value'].get('log') or {}).get('log_id')}")
    print(f"mode {args.mode}: {len(recs)} entity records of {sorted(dbs)}; matched changes: "
          + ", ".join(f"{k} {v}" for k, v in sorted(summary.items())))
    for m in mism:
        print(m)
    print(f"checks: {checks}, mismatches: {len(mism)}")
    sys.exit(1 if mism else 0)


def brief(r):
    v = r["value"]
    keep = {}
    for k in ("rev_deleted", "ar_deleted", "rev_page", "page_title", "page_is_redirect",
              "ug_group", "ug_expiry", "user_name", "title_text", "restored_revisions"):
        if k in (v.get("data") or {}):
            keep[k] = v["data"][k]
    if v.get("prior"):
        keep["prior"] = {k: x for k, x in v["prior"].items() if k != "visibility"}
    if v.get("log"):
        keep["log"] = f"{v['log'].get('log_id')} {v['log'].get('log_type')}/{v['log'].get('log_action')}"
    return f"{v['action']} {json.dumps(keep, sort_keys=True)} [{v['id']}]"


if __name__ == "__main__":
    main()
