# mwcdc: the two commands users need are `make test` and `make demo`.
SHELL := /bin/bash
CARGO ?= cargo
SERVICES := tests/services

.PHONY: test deps chart services mediawiki services-stop build lint fuzz chaos bench demo clean-services

## test: install what is missing, check the Helm chart, start MariaDB, Apache Kafka and MediaWiki,
## run every check and every test (unit, recorded-binlog fixtures, and integration against the
## real services).
test: deps chart services mediawiki lint
	source <($(SERVICES)/mariadb.sh env) && source <($(SERVICES)/kafka.sh env) && \
	  source <($(SERVICES)/mediawiki.sh env) && \
	  $(CARGO) test --workspace -- --test-threads 4

deps:
	$(SERVICES)/build-deps.sh

## chart: the Helm chart (docker/helm/mwcdc) rendered and linted (strict) with Helm's own library,
## every manifest validated against the Kubernetes 1.30 and newest schemas, and incomplete values
## refused with the chart's messages (tests/packaging/check_chart.py). No cluster, no helm binary;
## its Python tools are installed once into .services/packaging-venv.
chart:
	tests/packaging/check-chart.sh

services:
	$(SERVICES)/mariadb.sh start
	$(SERVICES)/kafka.sh start

## mediawiki: the real MediaWiki 1.39 from Debian's packages, two wikis in the private MariaDB,
## served by php -S on loopback (tests/services/mediawiki.sh; the integration test
## tests/integration/mediawiki.rs drives it).
mediawiki: services
	$(SERVICES)/mediawiki.sh start

services-stop:
	-$(SERVICES)/mediawiki.sh stop
	-$(SERVICES)/kafka.sh stop
	-$(SERVICES)/mariadb.sh stop replica
	-$(SERVICES)/mariadb.sh stop

build: deps
	$(CARGO) build --workspace --all-targets

## lint: no module circle in any crate (tests/structure/module_cycles.py, with its own tests),
## every module's first line saying its job (module_docs.py), rustfmt, clippy with warnings as
## errors.
lint: deps
	python3 tests/structure/module_cycles.py
	python3 tests/structure/module_docs.py
	python3 -m unittest discover -s tests/structure
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## fuzz: run the decoder's fuzz properties (crates/mwcdc-binlog/tests/fuzz.rs) for longer, in
## a release build: FUZZ_CASES cases per property (200000 unless given).
FUZZ_CASES ?= 200000
fuzz: deps
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test --release -p mwcdc-binlog --test fuzz

## chaos: the full fault-injection schedule (tests/integration/chaos.rs) in all three delivery modes:
## 24 SIGKILLs, 3 MariaDB restarts, 4 broker restarts (stopped or killed), 5 to 30 s cuts and
## stalls of the MariaDB and Kafka connections, a lagging replica and a promoted one; prints the
## figures (`make test` runs a small schedule). It starts its own MariaDB pair and Apache Kafka;
## the shared services serve the rest.
chaos: deps services
	source <($(SERVICES)/mariadb.sh env) && source <($(SERVICES)/kafka.sh env) && \
	  MWCDC_CHAOS=full $(CARGO) test -p mwcdc --test integration chaos -- --nocapture --test-threads 1

## bench: mwcdc (null sink and the three delivery modes) against mariadb-binlog,
## python-mysql-replication and Debezium (to the same Kafka) on one fixed binlog
## segment (generated once, 1.2M row changes) and on a realistic MediaWiki workload mix,
## each tool BENCH_RUNS times interleaved, then
## commit-to-consumer latency at 1,000 transactions/s (mwcdc and Debezium); prints the table of medians and writes
## it into docs/performance.md (tests/bench/bench.py); then an initial_only snapshot of 1M
## revision rows to the null sink (tests/bench/snapshot.py).
BENCH_RUNS ?= 3
bench: deps services
	$(CARGO) build --release -p mwcdc -p mwcdc-workload
	tests/bench/setup.sh
	.services/bench-venv/bin/python tests/bench/bench.py --runs $(BENCH_RUNS) --write docs/performance.md
	cd tests/bench && ../../.services/bench-venv/bin/python snapshot.py --runs $(BENCH_RUNS) --write ../../docs/performance.md

## demo: start the services, create two MediaWiki-shaped wikis, edit them, show the records.
demo: deps services
	tests/demo/run.sh

clean-services: services-stop
	rm -rf .services
