#!/usr/bin/env python3
"""The Helm chart docker/helm/mwcdc checked with Helm's own library and Kubernetes' schemas.

Run by tests/packaging/check-chart.sh (`make chart`, part of `make test`), which installs
helm-python-sdk (Helm's Go library, libhelm_c, through ctypes: no helm binary, no cluster)
and kubernetes-validate (the OpenAPI schemas of each Kubernetes release as JSON schemas).

1. Renders the chart for several value sets: the defaults plus the one required value, an
   existing Secret, an existing PersistentVolumeClaim, and every option at once.
2. Lints it in strict mode for each value set and two Kubernetes versions; any warning or
   error fails, and so does anything Helm's library logs (lint turns a failing `required`
   into a logged warning).
3. Validates every rendered manifest, and every object of sidecar-example.yaml, against the
   schemas of Kubernetes 1.30 and of the newest version kubernetes-validate knows, strictly
   (no unknown fields), then checks what the API server would check beyond the schema
   (selectors match the pod labels, mounts name volumes, named ports exist, references to
   ConfigMaps and Secrets of the release resolve) and what mwcdc needs (its mwcdc.toml
   parses, its state directory and HTTP port are the mounted volume and the container port).
4. Checks that incomplete values fail to render with the chart's own message
   (`required`/`fail` in the templates), and that the sidecar example's check catches a
   StatefulSet without its database container.

Prints a summary; exits 1 with every problem listed if anything fails.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any, Iterator

import helm_python as helm
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "docker" / "helm" / "mwcdc"
SIDECAR = CHART / "sidecar-example.yaml"
NAMESPACE = "mwcdc"
# The oldest Kubernetes release the chart is checked against (still maintained by the big
# distributions); the newest is whatever the installed kubernetes-validate knows.
OLDEST_KUBERNETES = "1.30"
# Custom resources: kubernetes-validate has no schema for them, the reference checks still run.
CUSTOM_RESOURCES = {("monitoring.coreos.com/v1", "ServiceMonitor")}
# The container running mwcdc, in the chart's Deployment and in the sidecar example.
MWCDC_CONTAINER = "mwcdc"
PASSWORD = "check-chart-password"

# Value sets rendered, linted and validated: (label, release name, values, the objects the
# values name that live outside the release).
VARIANTS: list[tuple[str, str, dict[str, Any], set[str]]] = [
    ("standalone (defaults + secret.sourcePassword)", "mwcdc",
     {"secret": {"sourcePassword": PASSWORD}}, set()),
    ("standalone, existing Secret", "mwcdc",
     {"secret": {"create": False, "existingSecret": "mwcdc-credentials"}},
     {"Secret/mwcdc-credentials"}),
    ("standalone, existing PersistentVolumeClaim", "s1",
     {"secret": {"sourcePassword": PASSWORD},
      "persistence": {"existingClaim": "mwcdc-state-s1"}},
     {"PersistentVolumeClaim/mwcdc-state-s1"}),
    ("standalone, every option", "enwiki", {
        "image": {"repository": "registry.example.org/mwcdc", "tag": "0.1.0-test",
                  "pullPolicy": "Always"},
        "imagePullSecrets": [{"name": "registry-credentials"}],
        "fullnameOverride": "",
        "nameOverride": "cdc",
        # Like `--set-file config=docker/mwcdc.toml`.
        "config": (ROOT / "docker" / "mwcdc.toml").read_text(),
        "logFormat": "text",
        "env": {"RUST_LOG": "info", "MWCDC_SOURCE_SERVER_ID": "8002"},
        "secret": {"sourcePassword": PASSWORD, "kafkaSaslPassword": "check-chart-sasl"},
        "secretMounts": [
            {"name": "source-tls", "secretName": "mwcdc-source-tls",
             "mountPath": "/etc/mwcdc-tls"},
            {"name": "kafka-tls", "secretName": "mwcdc-kafka-tls",
             "mountPath": "/etc/kafka-tls"},
        ],
        "persistence": {"size": "10Gi", "storageClass": "fast", "keep": False},
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"},
                      "limits": {"cpu": "2", "memory": "1Gi"}},
        "prometheusAnnotations": False,
        "podAnnotations": {"example.org/team": "data", "example.org/oncall": "true"},
        "service": {"port": 9999},
        "serviceMonitor": {"enabled": True, "interval": "15s",
                           "labels": {"release": "prometheus"}},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "cdc",
                         "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}]}}},
    }, {"Secret/mwcdc-source-tls", "Secret/mwcdc-kafka-tls"}),
]
# What sidecar-example.yaml expects to exist already (its comments say how to create them).
SIDECAR_EXTERNAL = {"Secret/mwcdc", "Secret/mariadb"}

# Incomplete or contradictory values and the chart's own message each must fail with.
MUST_FAIL: list[tuple[str, dict[str, Any], str]] = [
    ("no source password and no existing Secret", {},
     "secret.sourcePassword is required (or set secret.create=false and secret.existingSecret)"),
    ("secret.create=false without secret.existingSecret", {"secret": {"create": False}},
     "secret.existingSecret is required when secret.create is false"),
    ("secret.existingSecret while secret.create is true",
     {"secret": {"sourcePassword": PASSWORD, "existingSecret": "mwcdc-credentials"}},
     "secret.existingSecret is set but secret.create is true"),
    ("a secretMounts entry without secretName",
     {"secret": {"sourcePassword": PASSWORD},
      "secretMounts": [{"name": "tls", "mountPath": "/etc/mwcdc-tls"}]},
     "secretMounts[0].secretName is required"),
    ("a secretMounts entry inside /etc/mwcdc",
     {"secret": {"sourcePassword": PASSWORD},
      "secretMounts": [{"name": "tls", "secretName": "tls", "mountPath": "/etc/mwcdc/tls"}]},
     "secretMounts[0].mountPath /etc/mwcdc/tls is inside /etc/mwcdc"),
]


class Problems:
    """Every failure found, reported together at the end."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """What Helm's Go library writes to file descriptor 2 meanwhile (its default logger)."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(line for line in tmp.read().decode(errors="replace").splitlines()
                         if line.strip())


def render(release: str, values: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The chart's manifests (template path -> text) and what the library logged."""
    with captured_stderr() as log, helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=release, namespace=NAMESPACE, is_install=True)
    return manifests, log


def documents(source: str, text: str, problems: Problems) -> list[dict[str, Any]]:
    """The objects of one manifest file; a kind List is unpacked into its items."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        problems.add(source, f"not YAML: {e}")
        return []
    objects: list[dict[str, Any]] = []
    for doc in docs:
        if not isinstance(doc, dict) or not all(k in doc for k in ("apiVersion", "kind")):
            problems.add(source, f"not a Kubernetes object: {str(doc)[:200]}")
        elif doc["kind"] == "List" and doc["apiVersion"] == "v1":
            objects.extend(doc.get("items") or [])
        else:
            objects.append(doc)
    for obj in objects:
        if not (obj.get("metadata") or {}).get("name"):
            problems.add(source, f"{obj.get('kind')} without metadata.name")
    return objects


def name_of(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def validate_schema(source: str, objects: list[dict[str, Any]], versions: list[str],
                    problems: Problems) -> tuple[int, list[str]]:
    """Strict schema validation; returns how many objects passed for every version, and the
    custom resources skipped."""
    validated, skipped = 0, []
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_RESOURCES:
            skipped.append(name_of(obj))
            continue
        before = len(problems.items)
        for version in versions:
            try:
                used = kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path) or "(top)"
                problems.add(f"{source} {name_of(obj)}",
                             f"invalid for Kubernetes {version}: {path}: {e.message}")
                continue
            except (kubernetes_validate.SchemaNotFoundError,
                    kubernetes_validate.InvalidSchemaError) as e:
                problems.add(f"{source} {name_of(obj)}", f"Kubernetes {version}: {e.message}")
                continue
            if used != version:
                problems.add(f"{source} {name_of(obj)}",
                             f"validated against Kubernetes {used}, not {version}")
        validated += len(problems.items) == before
    return validated, skipped


def pod_templates(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict]]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield obj, (obj.get("spec") or {}).get("template") or {}


def check_references(source: str, objects: list[dict[str, Any]], external: set[str],
                     problems: Problems) -> None:
    """What the API server (or the kubelet) would refuse and a JSON schema cannot see.

    external: the objects ("Kind/name") the values name that live outside the release; any
    other ConfigMap, Secret or PersistentVolumeClaim referred to must be part of it.
    """
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj

    def resolves(where: str, kind: str, name: str) -> None:
        if name not in by_kind.get(kind, {}) and f"{kind}/{name}" not in external:
            problems.add(where, f"{kind} {name} is neither part of the release nor one the "
                         "values name")
    pods: list[tuple[str, dict[str, str], list[dict[str, Any]]]] = []
    for workload, template in pod_templates(objects):
        where = f"{source} {name_of(workload)}"
        spec = template.get("spec") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        selector = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            problems.add(where, f"selector {selector} does not match the pod labels {labels}")
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        claims = {c["metadata"]["name"]
                  for c in (workload.get("spec") or {}).get("volumeClaimTemplates") or []}
        for volume in volumes.values():
            vwhere = f"{where} volume {volume['name']}"
            if "configMap" in volume:
                resolves(vwhere, "ConfigMap", volume["configMap"]["name"])
            if "secret" in volume:
                resolves(vwhere, "Secret", volume["secret"]["secretName"])
            if "persistentVolumeClaim" in volume:
                resolves(vwhere, "PersistentVolumeClaim",
                         volume["persistentVolumeClaim"]["claimName"])
        containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
        for container in containers:
            cwhere = f"{where} container {container['name']}"
            ports = {p.get("name"): p for p in container.get("ports") or [] if p.get("name")}
            for port in ports:
                if len(port) > 15:
                    problems.add(cwhere, f"port name {port} is longer than 15 characters")
            for mount in container.get("volumeMounts") or []:
                if mount["name"] not in volumes and mount["name"] not in claims:
                    problems.add(cwhere, f"volumeMount {mount['name']} names no volume")
            for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
                port = ((container.get(probe_name) or {}).get("httpGet") or {}).get("port")
                if isinstance(port, str) and port not in ports:
                    problems.add(cwhere, f"{probe_name} port {port} is no container port")
            for env in container.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if not ref:
                    continue
                resolves(f"{cwhere} env {env['name']}", "Secret", ref["name"])
                secret = by_kind.get("Secret", {}).get(ref["name"])
                if secret is not None and ref["key"] not in (secret.get("data") or {}) \
                        and not ref.get("optional"):
                    problems.add(cwhere, f"env {env['name']}: Secret {ref['name']} has no key "
                                 f"{ref['key']}")
        pods.append((where, labels, containers))
    for name, service in by_kind.get("Service", {}).items():
        where = f"{source} Service/{name}"
        selector = (service.get("spec") or {}).get("selector") or {}
        selected = [containers for _, labels, containers in pods
                    if selector and all(labels.get(k) == v for k, v in selector.items())]
        if not selected:
            problems.add(where, f"selector {selector} matches no pod of the release")
        names = {p.get("name") for containers in selected for c in containers
                 for p in c.get("ports") or []}
        for port in (service.get("spec") or {}).get("ports") or []:
            if isinstance(port.get("targetPort"), str) and port["targetPort"] not in names:
                problems.add(where, f"targetPort {port['targetPort']} is no port of the pod")
    for name, monitor in by_kind.get("ServiceMonitor", {}).items():
        where = f"{source} ServiceMonitor/{name}"
        spec = monitor.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        services = [s for s in by_kind.get("Service", {}).values()
                    if selector and all(((s.get("metadata") or {}).get("labels") or {}).get(k) == v
                                        for k, v in selector.items())]
        if not services:
            problems.add(where, f"selector {selector} matches no Service of the release")
        ports = {p.get("name") for s in services for p in (s.get("spec") or {}).get("ports") or []}
        for endpoint in spec.get("endpoints") or []:
            if endpoint.get("port") not in ports:
                problems.add(where, f"endpoint port {endpoint.get('port')} is no Service port")
    check_mwcdc(source, objects, by_kind, problems)


def check_mwcdc(source: str, objects: list[dict[str, Any]],
                by_kind: dict[str, dict[str, dict[str, Any]]], problems: Problems) -> None:
    """mwcdc's container: its configuration parses and agrees with its volumes and port."""
    found = False
    for workload, template in pod_templates(objects):
        spec = template.get("spec") or {}
        for container in spec.get("containers") or []:
            if container["name"] != MWCDC_CONTAINER:
                continue
            found = True
            where = f"{source} {name_of(workload)} container {MWCDC_CONTAINER}"
            args = container.get("args") or []
            if "--config" not in args or args.index("--config") + 1 >= len(args):
                problems.add(where, f"no --config argument in {args}")
                continue
            config_path = Path(args[args.index("--config") + 1])
            mounts = {m["mountPath"]: m for m in container.get("volumeMounts") or []}
            mount = mounts.get(str(config_path.parent))
            volume = next((v for v in spec.get("volumes") or []
                           if mount and v["name"] == mount["name"]), None)
            config_map = by_kind.get("ConfigMap", {}).get(
                ((volume or {}).get("configMap") or {}).get("name"))
            text = ((config_map or {}).get("data") or {}).get(config_path.name)
            if text is None:
                problems.add(where, f"{config_path} does not come from a ConfigMap of the release")
                continue
            try:
                config = tomllib.loads(text)
            except tomllib.TOMLDecodeError as e:
                problems.add(where, f"{config_path} is not TOML: {e}")
                continue
            state = (config.get("checkpoint") or {}).get("dir")
            if state not in mounts or mounts[state].get("readOnly"):
                problems.add(where, f"checkpoint.dir {state} is not a writable volume mount")
            listen = (config.get("http") or {}).get("listen", "")
            port = listen.rpartition(":")[2]
            if not port.isdigit() or int(port) not in {
                    p["containerPort"] for p in container.get("ports") or []}:
                problems.add(where, f"http.listen {listen!r} is not on a container port")
    if not found:
        problems.add(source, f"no container named {MWCDC_CONTAINER}")


def check_sidecar(source: str, objects: list[dict[str, Any]], problems: Problems) -> None:
    """The sidecar example keeps what sidecar.md promises."""
    sets = [obj for obj in objects if obj["kind"] == "StatefulSet"]
    if len(sets) != 1:
        problems.add(source, f"expected one StatefulSet, found {len(sets)}")
        return
    where = f"{source} {name_of(sets[0])}"
    spec = sets[0]["spec"]["template"].get("spec") or {}
    containers = spec.get("containers") or []
    mwcdc = [c for c in containers if c["name"] == MWCDC_CONTAINER]
    if not [c for c in containers if c["name"] != MWCDC_CONTAINER]:
        problems.add(where, "the StatefulSet has no database container next to mwcdc: "
                     "the sidecar runs in the database's pod")
    if mwcdc:
        if "readinessProbe" in mwcdc[0]:
            problems.add(where, "the mwcdc sidecar has a readiness probe: it would take the "
                         "database out of its Service while mwcdc lags")
        if "livenessProbe" not in mwcdc[0]:
            problems.add(where, "the mwcdc sidecar has no liveness probe")
    if spec.get("enableServiceLinks") is not False:
        problems.add(where, "enableServiceLinks is not false: Services named mwcdc-... would "
                     "set MWCDC_* variables")


def major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def main() -> int:
    started = time.monotonic()
    problems = Problems()
    newest = major_minor(kubernetes_validate.latest_version())
    versions = [OLDEST_KUBERNETES] + ([newest] if newest != OLDEST_KUBERNETES else [])
    with helm.Chart.load(CHART) as chart:
        meta = chart.metadata
    print(f"chart {meta['name']} {meta['version']} (app {meta.get('appVersion')}): "
          f"Helm {helm.helm_sdk_version()} library (helm-python-sdk {helm.__version__}), "
          f"kubernetes-validate {kubernetes_validate.__version__}, "
          f"Kubernetes {' and '.join(versions)}")

    # 1 and 3: render, validate, check references.
    manifests_validated, skipped_all = 0, set()
    for label, release, values, external in VARIANTS:
        try:
            manifests, log = render(release, values)
        except helm.HelmError as e:
            problems.add(f"render {label}", str(e))
            continue
        for line in log:
            problems.add(f"render {label}", f"Helm logged: {line}")
        objects: list[dict[str, Any]] = []
        for path, text in sorted(manifests.items()):
            objects.extend(documents(f"{label}: {path}", text, problems))
        before = len(problems.items)
        validated, skipped = validate_schema(label, objects, versions, problems)
        manifests_validated += validated
        skipped_all.update(skipped)
        # On objects that passed the schemas only: the checks rely on their shape.
        if len(problems.items) == before:
            check_references(label, objects, external, problems)
        print(f"  rendered {label} (release {release}): "
              f"{', '.join(name_of(o) for o in objects)}")

    objects = documents(SIDECAR.name, SIDECAR.read_text(), problems)
    before = len(problems.items)
    validated, skipped = validate_schema(SIDECAR.name, objects, versions, problems)
    manifests_validated += validated
    if len(problems.items) == before:
        check_references(SIDECAR.name, objects, SIDECAR_EXTERNAL, problems)
        check_sidecar(SIDECAR.name, objects, problems)
    print(f"  parsed {SIDECAR.name} (not part of the chart): "
          f"{', '.join(name_of(o) for o in objects)}")
    print(f"  validated {manifests_validated} manifests strictly (no unknown fields) against "
          f"Kubernetes {' and '.join(versions)}"
          + (f"; {', '.join(sorted(skipped_all))}: custom resource, references checked only"
             if skipped_all else ""))

    # 2: lint, strict, per value set and Kubernetes version.
    infos: set[str] = set()
    lints, before = 0, len(problems.items)
    for label, _release, values, _external in VARIANTS:
        for version in versions:
            where = f"lint --strict {label}, Kubernetes {version}"
            try:
                with captured_stderr() as log:
                    report = helm.lint(CHART, values, strict=True, namespace=NAMESPACE,
                                       kube_version=f"v{version}.0")
            except helm.HelmError as e:
                problems.add(where, str(e))
                continue
            lints += 1
            for line in log:
                problems.add(where, f"Helm logged: {line}")
            reported = set()
            for message in report.get("messages") or []:
                text = f"{message.get('path')}: {message.get('error')}"
                # 1 is info; 2 warning, 3 error, 0 unknown.
                if message.get("severity", 0) == 1:
                    infos.add(text)
                else:
                    reported.add(str(message.get("error")))
                    problems.add(where, f"severity {message.get('severity')}: {text}")
            for error in report.get("errors") or []:
                if not any(str(error) in text or text in str(error) for text in reported):
                    problems.add(where, str(error))
            if report.get("total_charts_linted") != 1:
                problems.add(where, f"linted {report.get('total_charts_linted')} charts, not 1")
    found = len(problems.items) - before
    print(f"  lint --strict: {lints} runs ({len(VARIANTS)} value sets x {len(versions)} "
          f"Kubernetes versions), "
          + (f"{found} PROBLEMS" if found else "no warning or error")
          + (f" (info only: {'; '.join(sorted(infos))})" if infos else ""))

    # 4: incomplete values fail with the chart's message.
    before = len(problems.items)
    for label, values, message in MUST_FAIL:
        where = f"must fail: {label}"
        try:
            render("mwcdc", values)
        except helm.HelmRenderError as e:
            if message not in str(e):
                problems.add(where, f"failed, but not with the chart's message {message!r}: {e}")
            elif "execution error at (mwcdc/templates/" not in str(e):
                problems.add(where, f"not a template's required/fail: {e}")
            continue
        except helm.HelmError as e:
            problems.add(where, f"failed with {type(e).__name__}, not a render error: {e}")
            continue
        problems.add(where, f"rendered without error; expected {message!r}")
    # The sidecar example's own check: without the database container, or with a readiness
    # probe on mwcdc, it must complain.
    def without_database(containers: list[dict[str, Any]]) -> None:
        containers[:] = [c for c in containers if c["name"] == MWCDC_CONTAINER]

    def with_readiness(containers: list[dict[str, Any]]) -> None:
        for c in containers:
            if c["name"] == MWCDC_CONTAINER:
                c["readinessProbe"] = {"httpGet": {"path": "/readyz", "port": "mwcdc-http"}}

    for label, breaking, expected in [
            ("without its database container", without_database, "no database container"),
            ("with a readiness probe on mwcdc", with_readiness, "has a readiness probe")]:
        broken = copy.deepcopy(objects)
        for obj in broken:
            if obj["kind"] == "StatefulSet":
                breaking(obj["spec"]["template"]["spec"]["containers"])
        caught = Problems()
        check_sidecar(f"sidecar {label}", broken, caught)
        if not any(expected in p for p in caught.items):
            problems.add(f"must fail: sidecar example {label}",
                         f"the check did not notice: {caught.items}")
    found = len(problems.items) - before
    print(f"  {len(MUST_FAIL)} incomplete value sets, and the sidecar example without its "
          "database container or with a readiness probe on mwcdc: "
          + (f"{found} PROBLEMS" if found else "each refused with its own message"))

    elapsed = time.monotonic() - started
    if problems.items:
        print(f"\nchart check FAILED, {len(problems.items)} problems ({elapsed:.1f} s):",
              file=sys.stderr)
        for item in problems.items:
            print(f"  - {item}", file=sys.stderr)
        return 1
    print(f"chart check passed ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
