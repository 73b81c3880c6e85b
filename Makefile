# Two entry points for a fresh machine (Python 3.11, Java 17, Maven): `make demo` and `make test`.
# Both create .venv and install riverbed from this repository's own pinned files, and fetch the
# pinned JVM jars (jvm/pom.xml) into .cache/jars once.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench bench-peers check-java jars clean

check-java:
	@scripts/check-java

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "riverbed needs Python >= 3.11; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# The JVM jars beside PySpark's own (Kafka connector, Delta Lake), declared in jvm/pom.xml and copied
# by Maven into .cache/jars/ once; riverbed's SparkSession puts them on spark.jars ($$RIVERBED_JARS
# names another folder).
JARS_DIR   := .cache/jars
JARS_STAMP := $(JARS_DIR)/.resolved

$(JARS_STAMP): jvm/pom.xml
	@scripts/resolve-jars $(JARS_DIR)

jars: $(JARS_STAMP)

demo: check-java $(STAMP) $(JARS_STAMP)
	$(BIN)/riverbed demo

test: check-java $(STAMP) $(JARS_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(BENCH_STAMP)

bench: check-java $(BENCH_STAMP)
	$(BIN)/python benchmarks/log_throughput.py

# YSB peers (Bytewax, Quix Streams) in their own venv: their pins clash with riverbed's
# (quixstreams needs confluent-kafka < 2.13). See benchmarks/peers/README.md.
PEERS_VENV  := .venv-peers
PEERS_STAMP := $(PEERS_VENV)/.installed

$(PEERS_STAMP): benchmarks/peers/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "the peers venv needs Python >= 3.11; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS_VENV)/bin/python -m pip install --quiet -r benchmarks/peers/requirements.txt
	@touch $(PEERS_STAMP)

bench-peers: $(BENCH_STAMP) $(PEERS_STAMP)
	@echo "peers ready: .venv/bin/python benchmarks/peers/harness.py --engine bytewax|quix ..."

clean:
	rm -rf $(VENV) $(PEERS_VENV) .riverbed .pytest_cache .cache
