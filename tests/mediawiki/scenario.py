#!/usr/bin/env python3
"""Drive a scenario through the real MediaWiki 1.39 test wikis (tests/services/mediawiki.sh).

Usage: tests/mediawiki/scenario.py OUT.json [--wikis a,b] [--run-id ID]

Every operation class that writes revision / archive / logging / page / user_groups rows is
done through the action API (and, where 1.39 has no API module, through index.php forms), on
both wikis. Before and after each operation the MariaDB GTID position (@@gtid_binlog_pos) is
recorded, and after it MediaWiki's own view of the run's entities is read back through the API
(log events, live and deleted revisions with their visibility flags, pages, users' group
memberships). OUT.json holds the start and end positions and, per operation, its name, wiki,
parameters, positions and the views after it (tests/mediawiki/check.py compares mwcdc's entity
records with them).

Re-runnable: titles and user names carry a run id, so the installed wikis are reused.
Standard library only. Talks to 127.0.0.1 only.
"""
import argparse
import datetime
import http.cookiejar
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARIADB = os.path.join(REPO, "tests/services/mariadb.sh")
MEDIAWIKI = os.path.join(REPO, "tests/services/mediawiki.sh")


def service_env():
    out = subprocess.run([MEDIAWIKI, "env"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = os.environ.get(k, v)
    return env


def gtid_pos():
    out = subprocess.run([MARIADB, "sql", "-N", "-e", "SELECT @@gtid_binlog_pos"],
                         check=True, capture_output=True, text=True).stdout
    return out.strip()


def stable_gtid_pos(quiet=0.4, timeout=20.0):
    """The position once it has not moved for `quiet` seconds (post-send deferred updates)."""
    deadline = time.time() + timeout
    pos = gtid_pos()
    while time.time() < deadline:
        time.sleep(quiet)
        now = gtid_pos()
        if now == pos:
            return pos
        pos = now
    return pos


class ApiError(Exception):
    pass


class Wiki:
    """One logged-in session on one wiki."""

    def __init__(self, key, api, index, db, maint):
        self.key, self.api, self.index, self.db, self.maint = key, api, index, db, maint
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.user = None

    def _open(self, req, timeout=120):
        with self.opener.open(req, timeout=timeout) as resp:
            return resp.read()

    def call(self, params, post=False, files=None, ok_codes=()):
        params = dict(params, format="json", formatversion="2")
        if files:
            boundary = "mwcdc" + uuid.uuid4().hex
            body = b""
            for k, v in params.items():
                body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                         f"{v}\r\n").encode()
            for k, (fname, data, ctype) in files.items():
                body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; "
                         f"filename=\"{fname}\"\r\nContent-Type: {ctype}\r\n\r\n").encode()
                body += data + b"\r\n"
            body += f"--{boundary}--\r\n".encode()
            req = urllib.request.Request(self.api, data=body, headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}"})
        elif post:
            req = urllib.request.Request(self.api, data=urllib.parse.urlencode(params).encode())
        else:
            req = urllib.request.Request(self.api + "?" + urllib.parse.urlencode(params))
        raw = self._open(req)
        try:
            res = json.loads(raw)
        except ValueError:
            raise ApiError(f"{self.key}: not JSON: {raw[:500]!r}")
        if "error" in res and res["error"].get("code") not in ok_codes:
            raise ApiError(f"{self.key}: {params.get('action')}: {json.dumps(res['error'])[:800]}")
        return res

    def token(self, kind="csrf"):
        res = self.call({"action": "query", "meta": "tokens", "type": kind})
        return res["query"]["tokens"][kind + "token"]

    def login(self, user, password):
        tok = self.token("login")
        res = self.call({"action": "login", "lgname": user, "lgpassword": password,
                         "lgtoken": tok}, post=True)
        if res.get("login", {}).get("result") != "Success":
            raise ApiError(f"{self.key}: login {user}: {res}")
        self.user = user
        return res["login"]

    def post(self, params, **kw):
        params = dict(params)
        params.setdefault("token", self.token())
        return self.call(params, post=True, **kw)

    def form_post(self, title, fields):
        """POST a special page form through index.php; returns the HTML."""
        data = urllib.parse.urlencode(dict(fields, title=title)).encode()
        req = urllib.request.Request(self.index, data=data)
        return self._open(req).decode("utf-8", "replace")

    def query_all(self, params, list_key):
        """Follow `continue` for a list/generator query; returns the concatenated items."""
        items, cont = [], {}
        while True:
            res = self.call(dict(params, action="query", **cont))
            q = res.get("query", {})
            items.extend(q.get(list_key, []))
            if "continue" not in res:
                return items
            cont = res["continue"]

    def maintenance(self, script, *args):
        """Runs a maintenance script of this wiki; its stdout."""
        out = subprocess.run([self.maint, self.key, script, *args], capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise RuntimeError(f"{script} {self.key}: {out.stderr[-2000:]}")
        return out.stdout

    def run_jobs(self):
        out = subprocess.run([self.maint, self.key, "runJobs.php"], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"runJobs.php {self.key}: {out.stderr[-2000:]}")
        return out.stdout.count("good")

    def pending_jobs(self):
        # Not showJobs.php: JobQueueDB caches its size in the object cache (stale for ~30 s).
        out = subprocess.run([MARIADB, "sql", "-N", "-e", f"SELECT COUNT(*) FROM `{self.db}`.job"],
                             check=True, capture_output=True, text=True).stdout
        return int(out.strip())


def bits_of(rev):
    b = 0
    if rev.get("sha1hidden") or rev.get("texthidden"):
        b |= 1
    if rev.get("commenthidden"):
        b |= 2
    if rev.get("userhidden"):
        b |= 4
    if rev.get("suppressed"):
        b |= 8
    return b


def log_bits(ev):
    b = 0
    if ev.get("actionhidden"):
        b |= 1
    if ev.get("commenthidden"):
        b |= 2
    if ev.get("userhidden"):
        b |= 4
    if ev.get("suppressed"):
        b |= 8
    return b


class Scenario:
    def __init__(self, env, run_id, wikis):
        self.env = env
        self.run = run_id
        self.prefix = f"Mwcdc {run_id} "
        self.start_ts = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) \
            - datetime.timedelta(seconds=2)
        self.ops = []
        self.last_edit_second = 0
        self.view_seconds = 0.0
        self.wiki_keys = wikis
        self.admin = {}
        self.users = {w: set() for w in wikis}     # user names to read back, per wiki
        self.extra_titles = {w: set() for w in wikis}  # titles whose revisions predate the run
        self.password = "mwcdc-user-password-" + run_id
        for w in wikis:
            up = w.upper()
            wk = Wiki(w, env[f"MWCDC_MW_API_{up}"], env[f"MWCDC_MW_INDEX_{up}"],
                      env[f"MWCDC_MW_DB_{up}"], env["MWCDC_MW_MAINT"])
            wk.login(env["MWCDC_MW_ADMIN_USER"], env["MWCDC_MW_ADMIN_PASSWORD"])
            self.admin[w] = wk
            self.users[w].add(env["MWCDC_MW_ADMIN_USER"])

    def t(self, name):
        return self.prefix + name

    # ---- MediaWiki's view -------------------------------------------------------------

    def view(self, w):
        wk = self.admin[w]
        start = self.start_ts.strftime("%Y-%m-%dT%H:%M:%SZ")
        revs = {}

        def add_rev(r, pageid, title, live):
            revs[str(r["revid"])] = {
                "rev_id": r["revid"], "page_id": pageid, "title": title,
                "parent_id": r.get("parentid"), "timestamp": r["timestamp"],
                "sha1": r.get("sha1"), "size": r.get("size"), "minor": bool(r.get("minor")),
                "user": r.get("user"), "userid": r.get("userid"), "comment": r.get("comment"),
                "bits": bits_of(r), "live": live}

        rprops = "ids|timestamp|flags|sha1|user|userid|comment|size"
        for page in wk.query_all({"list": "allrevisions", "arvprop": rprops, "arvlimit": "max",
                                  "arvdir": "newer", "arvstart": start}, "allrevisions"):
            for r in page["revisions"]:
                add_rev(r, page["pageid"], page["title"], True)
        for title in sorted(self.extra_titles[w]):
            res = wk.call({"action": "query", "prop": "revisions", "titles": title,
                           "rvprop": rprops, "rvlimit": "max"})
            for page in res["query"]["pages"]:
                for r in page.get("revisions", []):
                    add_rev(r, page["pageid"], page["title"], True)
        deleted = {}
        for page in wk.query_all({"list": "alldeletedrevisions", "adrprop": rprops,
                                  "adrlimit": "max", "adrprefix": self.prefix.replace(" ", "_"),
                                  "adrnamespace": 0}, "alldeletedrevisions"):
            for r in page["revisions"]:
                deleted[str(r["revid"])] = {
                    "rev_id": r["revid"], "page_id": page.get("pageid"), "title": page["title"],
                    "parent_id": r.get("parentid"), "timestamp": r["timestamp"],
                    "sha1": r.get("sha1"), "size": r.get("size"), "minor": bool(r.get("minor")),
                    "user": r.get("user"), "userid": r.get("userid"),
                    "comment": r.get("comment"), "bits": bits_of(r), "live": False}
        logs = {}
        for ev in wk.query_all({"list": "logevents", "leprop":
                                "ids|title|type|user|userid|timestamp|comment|details|tags",
                                "lelimit": "max", "ledir": "newer", "lestart": start},
                               "logevents"):
            ev = dict(ev)
            ev["bits"] = log_bits(ev)
            logs[str(ev["logid"])] = ev
        pages = {}
        for ns in (0, 2):
            for p in wk.query_all({"generator": "allpages", "gapprefix": self.prefix,
                                   "gapnamespace": ns, "gaplimit": "max", "prop": "info"},
                                  "pages"):
                pages[str(p["pageid"])] = {"page_id": p["pageid"], "ns": p["ns"],
                                           "title": p["title"], "redirect": bool(p.get("redirect")),
                                           "latest": p.get("lastrevid")}
        for title in sorted(self.extra_titles[w]):
            res = wk.call({"action": "query", "prop": "info", "titles": title})
            for p in res["query"]["pages"]:
                if "pageid" in p:
                    pages[str(p["pageid"])] = {"page_id": p["pageid"], "ns": p["ns"],
                                               "title": p["title"],
                                               "redirect": bool(p.get("redirect")),
                                               "latest": p.get("lastrevid")}
        users = {}
        names = sorted(self.users[w])
        for i in range(0, len(names), 50):
            res = wk.call({"action": "query", "list": "users", "ususers": "|".join(names[i:i + 50]),
                           "usprop": "groupmemberships|blockinfo|editcount"})
            for u in res["query"]["users"]:
                if u.get("missing") or "userid" not in u:
                    continue
                users[str(u["userid"])] = {
                    "user_id": u["userid"], "name": u["name"], "hidden": bool(u.get("hidden")),
                    "blocked": "blockid" in u,
                    "groups": {g["group"]: g["expiry"] for g in u.get("groupmemberships", [])}}
        return {"revisions": revs, "deleted": deleted, "logs": logs, "pages": pages,
                "users": users}

    # ---- operations --------------------------------------------------------------------

    def op(self, name, w, params, fn, also=()):
        """Runs fn() as one operation on wiki w and records positions and views."""
        before = stable_gtid_pos(quiet=0.2)
        t0 = time.time()
        result = fn()
        wk = self.admin[w]
        jobs = 0
        for k in {w, *also}:
            for _ in range(20):
                if self.admin[k].pending_jobs() == 0:
                    break
                jobs += self.admin[k].run_jobs()
            else:
                raise RuntimeError(f"jobs of wiki {k} do not finish")
        after = stable_gtid_pos()
        tv = time.time()
        views = {k: self.view(k) for k in [w, *also]}
        self.view_seconds += time.time() - tv
        entry = {"name": name, "wiki": w, "db": wk.db, "params": params,
                 "result": result, "jobs_run": jobs, "pos_before": before, "pos_after": after,
                 "seconds": round(time.time() - t0, 2), "views": views}
        self.ops.append(entry)
        print(f"  {w} {name}: {before} -> {after} ({entry['seconds']}s, jobs {jobs})",
              file=sys.stderr)
        return result

    def edit(self, w, title, text, summary, session=None, **extra):
        wk = session or self.admin[w]
        # One edit per second: revisions get distinct timestamps (undeletion and revision
        # deletion of archived revisions select them by timestamp).
        while int(time.time()) <= self.last_edit_second:
            time.sleep(0.05)
        self.last_edit_second = int(time.time())

        def go():
            res = wk.post(dict({"action": "edit", "title": title, "text": text,
                                "summary": summary}, **extra))
            return res["edit"]
        return self.op(f"edit {title}", w, {"title": title, "text": text, "user": wk.user,
                                              **extra}, go)

    def revs_of(self, w, title, deleted=False):
        wk = self.admin[w]
        if deleted:
            res = wk.call({"action": "query", "prop": "deletedrevisions", "titles": title,
                           "drvprop": "ids|timestamp", "drvlimit": "max"})
            return sorted(((r["timestamp"], r["revid"]) for r in
                           res["query"]["pages"][0].get("deletedrevisions", [])))
        res = wk.call({"action": "query", "prop": "revisions", "titles": title,
                       "rvprop": "ids|timestamp", "rvlimit": "max", "rvdir": "newer"})
        return [(r["timestamp"], r["revid"]) for r in res["query"]["pages"][0]["revisions"]]

    def create_user(self, w, name):
        wk = self.admin[w]

        def go():
            tok = wk.token("createaccount")
            res = wk.call({"action": "createaccount", "username": name,
                           "password": self.password, "retype": self.password,
                           "createreturnurl": "http://127.0.0.1/", "createtoken": tok,
                           "reason": "mwcdc scenario"}, post=True)
            if res["createaccount"]["status"] != "PASS":
                raise ApiError(f"createaccount {name}: {res}")
            return res["createaccount"]
        self.users[w].add(name)
        return self.op(f"createaccount {name}", w, {"username": name}, go)

    def session_as(self, w, name):
        env = self.env
        up = w.upper()
        s = Wiki(w, env[f"MWCDC_MW_API_{up}"], env[f"MWCDC_MW_INDEX_{up}"],
                 env[f"MWCDC_MW_DB_{up}"], env["MWCDC_MW_MAINT"])
        s.login(name, self.password)
        return s

    def userrights(self, w, user, add=(), remove=(), expiry=None, label="", also=()):
        wk = self.admin[w]
        params = {"action": "userrights", "user": user, "reason": "mwcdc " + label}
        if add:
            params["add"] = "|".join(add)
            if expiry is not None:
                params["expiry"] = "|".join(expiry)
        if remove:
            params["remove"] = "|".join(remove)

        def go():
            p = dict(params, token=wk.token("userrights"))
            return wk.call(p, post=True)["userrights"]
        return self.op(f"userrights {label}", w, params, go, also=also)

    def interwiki_rights(self, w, target, group, also):
        """Special:UserRights for Name@otherdb (the API normalises the database name's
        underscores to spaces, so only the form can do it)."""
        import re
        wk = self.admin[w]

        def go():
            q = urllib.parse.urlencode({"title": "Special:UserRights", "user": target})
            html = wk._open(urllib.request.Request(wk.index + "?" + q)).decode("utf-8", "replace")
            def field(name):
                for tag in re.findall(r"<input[^>]*>", html):
                    if f'name="{name}"' in tag:
                        m = re.search(r'value="([^"]*)"', tag)
                        return m
                return None
            tok, orig = field("wpEditToken"), field("conflictcheck-originalgroups")
            if not tok:
                raise ApiError("Special:UserRights form without token: " + html[-1500:])
            wk.form_post("Special:UserRights", {
                "user": target, "wpEditToken": tok.group(1),
                "conflictcheck-originalgroups": orig.group(1) if orig else "",
                f"wpGroup-{group}": "1", f"wpExpiry-{group}": "infinite",
                "user-reason": "mwcdc interwiki", "saveusergroups": "1"})
            return {"target": target, "added": [group]}
        return self.op(f"interwiki userrights add {group} to {target}", w,
                       {"user": target, "add": [group]}, go, also=also)

    def revdel(self, w, rtype, ids, hide=(), show=(), suppress=None, target=None, label=""):
        wk = self.admin[w]
        params = {"action": "revisiondelete", "type": rtype, "ids": "|".join(map(str, ids)),
                  "reason": "mwcdc " + label}
        if hide:
            params["hide"] = "|".join(hide)
        if show:
            params["show"] = "|".join(show)
        if suppress:
            params["suppress"] = suppress
        if target:
            params["target"] = target

        def go():
            res = wk.post(params)["revisiondelete"]
            if res.get("status") != "Success":
                raise ApiError(f"revisiondelete: {res}")
            for item in res.get("items", []):
                if item.get("errors"):
                    raise ApiError(f"revisiondelete item: {item}")
            return res
        return self.op(f"revisiondelete {label}", w, params, go)

    def run_wiki(self, w, imported_xml=None):
        wk = self.admin[w]
        t = self.t
        R = self.run
        alice, bob, carol = f"Mwcdc-{R}-Alice", f"Mwcdc-{R}-Bob", f"Mwcdc-{R}-Carol"
        carol2 = f"Mwcdc-{R}-Caroline"
        for u in (alice, bob, carol):
            self.create_user(w, u)

        # Pages and revisions (one edit per operation).
        for i in range(1, 6):
            self.edit(w, t("Deleted"), f"deleted page, version {i}", f"v{i}")
        for i in range(1, 5):
            self.edit(w, t("Revdel"), f"revdel page, version {i}", f"v{i}")
        self.edit(w, t("Move with redirect"), "to be moved, leaving a redirect", "create")
        self.edit(w, t("Move with redirect"), "to be moved, leaving a redirect (2)", "edit")
        self.edit(w, t("Move without redirect"), "to be moved without redirect", "create")
        self.edit(w, t("Redirect flip"), "an ordinary page", "create")
        for i in range(1, 4):
            self.edit(w, t("Archived revdel"), f"archived revdel page, version {i}", f"v{i}")
        for i in range(1, 5):
            self.edit(w, t("Partial"), f"partially undeleted page, version {i}", f"v{i}")
        for i in range(1, 4):
            self.edit(w, t("Merge source"), f"merge source, version {i}", f"v{i}")
            time.sleep(1.1)  # distinct timestamps, older than the destination's
        self.edit(w, t("Merge destination"), "merge destination", "create")
        self.edit(w, t("Protected"), "a page to protect", "create")

        # The victim of the hidename block edits and creates pages (rev_actor, log_actor).
        s_alice = self.session_as(w, alice)
        self.edit(w, t("Alice page"), "created by alice", "alice creates", session=s_alice)
        self.edit(w, t("Alice page"), "edited by alice", "alice edits", session=s_alice)
        self.edit(w, t("Revdel"), "revdel page, version 5 by alice", "alice v5", session=s_alice)
        s_carol = self.session_as(w, carol)
        self.edit(w, t("Carol page"), "created by carol", "carol creates", session=s_carol)

        # Redirect changes.
        self.edit(w, t("Redirect flip"), f"#REDIRECT [[{t('Revdel')}]]", "make redirect")
        self.edit(w, t("Redirect flip"), "an ordinary page again", "un-redirect")

        # Moves: leaving a redirect, without one, and back over the redirect (delete_redir).
        def move(frm, to, noredirect):
            def go():
                p = {"action": "move", "from": frm, "to": to, "reason": "mwcdc move"}
                if noredirect:
                    p["noredirect"] = "1"
                return wk.post(p)["move"]
            self.op(f"move {frm} -> {to}" + (" (noredirect)" if noredirect else ""), w,
                    {"from": frm, "to": to, "noredirect": noredirect}, go)
        move(t("Move with redirect"), t("Moved with redirect"), False)
        move(t("Move without redirect"), t("Moved without redirect"), True)
        move(t("Moved with redirect"), t("Move with redirect"), False)  # over its redirect

        # Deletion in several batches ($wgDeleteRevisionsBatchSize = 2; 5 revisions).
        def delete(title, label):
            def go():
                return wk.post({"action": "delete", "title": title, "reason": "mwcdc " + label})
            self.op(f"delete {title}", w, {"title": title}, go)
        delete(t("Deleted"), "delete")

        def undelete(title, timestamps=None, label="undelete"):
            params = {"action": "undelete", "title": title, "reason": "mwcdc " + label}
            if timestamps:
                params["timestamps"] = "|".join(timestamps)

            def go():
                return wk.post(params)["undelete"]
            self.op(f"{label} {title}", w, params, go)
        undelete(t("Deleted"))

        # Partial undeletion: restore the two oldest revisions, then the rest into the page.
        delete(t("Partial"), "delete for partial undeletion")
        drevs = self.revs_of(w, t("Partial"), deleted=True)
        undelete(t("Partial"), [ts for ts, _ in drevs[:2]], "partial undelete")
        undelete(t("Partial"), [ts for ts, _ in drevs[2:]], "partial undelete (rest)")

        # Revision deletion of live revisions; bits accumulate and are partly removed.
        revs = [rid for _, rid in self.revs_of(w, t("Revdel"))]
        r1, r2, r3 = revs[0], revs[1], revs[2]
        self.revdel(w, "revision", [r1], hide=["content"], label="r1 hide text")
        self.revdel(w, "revision", [r1], hide=["comment", "user"], label="r1 hide comment+user")
        self.revdel(w, "revision", [r1], show=["comment"], label="r1 show comment")
        self.revdel(w, "revision", [r1, r2], hide=["comment"], label="r1+r2 hide comment")
        self.revdel(w, "revision", [r2], hide=["content"], suppress="yes",
                    label="r2 suppress text")
        self.revdel(w, "revision", [r3], hide=["user"], show=[], suppress="yes",
                    label="r3 suppress user")
        self.revdel(w, "revision", [r3], show=["user"], suppress="no",
                    label="r3 unsuppress user")

        # Revision deletion of archived revisions (type=archive, ids = ar_timestamp).
        delete(t("Archived revdel"), "delete for archived revdel")
        arevs = self.revs_of(w, t("Archived revdel"), deleted=True)
        ats = [ts.replace("-", "").replace(":", "").replace("T", "").replace("Z", "")
               for ts, _ in arevs]
        self.revdel(w, "archive", [ats[0]], hide=["content"], target=t("Archived revdel"),
                    label="archived a1 hide text")
        self.revdel(w, "archive", [ats[0], ats[1]], hide=["comment"],
                    target=t("Archived revdel"), label="archived a1+a2 hide comment")
        self.revdel(w, "archive", [ats[1]], hide=["user"], suppress="yes",
                    target=t("Archived revdel"), label="archived a2 suppress user")
        undelete(t("Archived revdel"), label="undelete (with hidden bits)")

        # Revision deletion of a log entry (logging.log_deleted).
        res = wk.call({"action": "query", "list": "logevents", "letype": "move",
                       "letitle": t("Move without redirect"), "leprop": "ids"})
        move_log = res["query"]["logevents"][0]["logid"]
        self.revdel(w, "logging", [move_log], hide=["comment"], label="log entry hide comment")

        # User rights: bot; sysop with expiry; remove bot from [bot, sysop] (array_diff keeps
        # keys: 5::newgroups a:1:{i:1;s:5:"sysop";}); change an expiry; add+remove at once.
        self.users[w].add(bob)
        self.userrights(w, bob, add=["bot"], label="add bot")
        self.userrights(w, bob, add=["sysop"], expiry=["2030-01-01T00:00:00Z"],
                        label="add sysop with expiry")
        self.userrights(w, bob, remove=["bot"], label="remove bot from [bot, sysop]")
        self.userrights(w, bob, add=["sysop"], expiry=["2031-06-01T12:00:00Z"],
                        label="change sysop expiry")
        self.userrights(w, bob, add=["bureaucrat"], remove=["sysop"],
                        expiry=["infinite"], label="add bureaucrat, remove sysop")
        self.userrights(w, carol, add=["bot"], label="carol add bot")
        if len(self.wiki_keys) > 1 and w != self.wiki_keys[0]:
            # (on the second wiki, whose run comes after the first one's Bob exists)
            other = self.wiki_keys[0]
            other_db = self.admin[other].db
            self.users[other].add(bob)
            self.interwiki_rights(w, f"{bob}@{other_db}", "bot", also=(other,))

        # Protection (null revision + protect log), then unprotection.
        def protect(title, protections, label):
            def go():
                return wk.post({"action": "protect", "title": title, "protections": protections,
                                "expiry": "infinite", "reason": "mwcdc " + label})["protect"]
            self.op(f"{label} {title}", w, {"title": title, "protections": protections}, go)
        protect(t("Protected"), "edit=sysop|move=sysop", "protect")
        protect(t("Protected"), "edit=all|move=all", "unprotect")

        # History merge: every source revision into the destination (the source becomes a
        # redirect).
        def merge():
            return wk.post({"action": "mergehistory", "from": t("Merge source"),
                            "to": t("Merge destination"), "reason": "mwcdc merge"})["mergehistory"]
        self.op("mergehistory", w, {"from": t("Merge source"), "to": t("Merge destination")},
                merge)

        # XML import (upload): a hand-written page with two revisions from 2001, and, when
        # given, the export of the other wiki.
        xml = import_xml(t("Imported"), R)
        self.extra_titles[w].add(t("Imported"))

        def imp(data, label):
            def go():
                return wk.post({"action": "import", "interwikiprefix": "imp",
                                "summary": "mwcdc " + label},
                               files={"xml": ("import.xml", data, "application/xml")})["import"]
            self.op(f"import {label}", w, {"bytes": len(data)}, go)
        imp(xml, "hand-written")
        if imported_xml:
            self.extra_titles[w].update(imported_xml[1])
            imp(imported_xml[0], "export of the other wiki")

        # Block with hidename (RevisionDeleteUser ORs bit 4 into rev_deleted, ar_deleted,
        # log_deleted of the user's rows), then unblock (ANDs it out again).
        def block():
            return wk.post({"action": "block", "user": alice, "expiry": "infinite",
                            "hidename": "1", "reason": "mwcdc hidename"})["block"]
        self.op("block hidename", w, {"user": alice}, block)

        def unblock():
            return wk.post({"action": "unblock", "user": alice, "reason": "mwcdc"})["unblock"]
        self.op("unblock", w, {"user": alice}, unblock)

        # User rename (Renameuser's Special:RenameUser; no API module in 1.39).
        def rename():
            html = wk.form_post("Special:RenameUser", {
                "oldusername": carol, "newusername": carol2, "reason": "mwcdc rename",
                "token": wk.token(), "confirmaction": "1"})
            res = wk.call({"action": "query", "list": "users", "ususers": carol2})
            if res["query"]["users"][0].get("missing"):
                raise ApiError("rename failed: " + html[-2000:])
            return {"renamed": carol2}
        self.users[w].add(carol2)
        self.op("renameuser", w, {"old": carol, "new": carol2}, rename)
        self.userrights(w, carol2, remove=["bot"], label="renamed carol remove bot")

        # A suppressing page deletion (Special:Delete with "suppress"; the API has no such
        # option in 1.39): ar_deleted 15, suppress/delete.
        for i in range(3):
            self.edit(w, t("Suppressed"), f"to be suppressed, version {i}", f"s{i}")

        def delete_suppressed():
            import re
            title = t("Suppressed")
            q = urllib.parse.urlencode({"title": title, "action": "delete"})
            html = wk._open(urllib.request.Request(wk.index + "?" + q)).decode("utf-8", "replace")
            m = re.search(r'name="wpEditToken"[^>]*value="([^"]*)"', html) or \
                re.search(r'value="([^"]*)"[^>]*name="wpEditToken"', html)
            if not m:
                raise ApiError("Special:Delete form without token: " + html[-1500:])
            wk.form_post(title, {"action": "delete", "wpEditToken": m.group(1),
                                 "wpReason": "mwcdc suppressed deletion", "wpSuppress": "1",
                                 "wpConfirmB": "Delete page"})
            if not self.revs_of(w, title, deleted=True):
                raise ApiError("the suppressing deletion did not archive the page")
            return {"suppressed": True}
        self.op(f"delete suppressed {t('Suppressed')}", w, {"title": t("Suppressed")},
                delete_suppressed)

        # Archived revisions removed for good (deleteArchivedRevisions.php): archive DELETEs,
        # no log row. Every archived revision of the wiki goes.
        def purge():
            out = wk.maintenance("deleteArchivedRevisions.php", "--delete")
            return {"output": out.strip()[-200:]}
        self.op("purge archived revisions", w, {}, purge)
        self.edit(w, t("Last"), "the last edit", "last")

    def export_xml(self, w):
        wk = self.admin[w]
        titles = [self.t("Protected"), self.t("Alice page")]
        req = urllib.request.Request(wk.api + "?" + urllib.parse.urlencode({
            "action": "query", "export": "1", "exportnowrap": "1", "titles": "|".join(titles)}))
        return wk._open(req), titles


def import_xml(title, run):
    return f"""<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">
  <page>
    <title>{title}</title>
    <ns>0</ns>
    <revision>
      <timestamp>2001-01-15T10:00:00Z</timestamp>
      <contributor><username>Importer Person {run}</username></contributor>
      <comment>first imported revision</comment>
      <model>wikitext</model>
      <format>text/x-wiki</format>
      <text xml:space="preserve">imported text one</text>
    </revision>
    <revision>
      <timestamp>2001-01-16T11:30:00Z</timestamp>
      <contributor><username>Importer Person {run}</username></contributor>
      <comment>second imported revision</comment>
      <model>wikitext</model>
      <format>text/x-wiki</format>
      <text xml:space="preserve">imported text two</text>
    </revision>
  </page>
</mediawiki>
""".encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--wikis", default="a,b")
    ap.add_argument("--run-id", default=None)
    args = ap.parse_args()
    env = service_env()
    run_id = args.run_id or "R" + format(int(time.time()), "x")
    wikis = args.wikis.split(",")
    t0 = time.time()
    sc = Scenario(env, run_id, wikis)
    for w in wikis:  # leftovers of an earlier, interrupted run
        while sc.admin[w].pending_jobs() > 0:
            sc.admin[w].run_jobs()
        # Archived revisions of earlier runs go before the start position, so that the
        # purge at the end of this run removes only revisions this run's views know.
        sc.admin[w].maintenance("deleteArchivedRevisions.php", "--delete")
    start = stable_gtid_pos()
    initial = {w: sc.view(w) for w in wikis}
    print(f"scenario {run_id}: start position {start}", file=sys.stderr)
    exported = None
    for w in wikis:
        sc.run_wiki(w, imported_xml=exported)
        exported = sc.export_xml(w)
    end = stable_gtid_pos()
    doc = {"run_id": run_id, "prefix": sc.prefix, "start_ts": sc.start_ts.isoformat(),
           "wikis": {w: sc.admin[w].db for w in wikis}, "start_position": start,
           "end_position": end, "initial_views": initial, "operations": sc.ops,
           "seconds": round(time.time() - t0, 1)}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    print(f"scenario {run_id}: {len(sc.ops)} operations, {start} -> {end}, "
          f"{doc['seconds']}s, written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
