# `make run` and `make test` set everything up on a fresh machine; nothing is installed by hand.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 1026
STORE ?= sqlite:///$(CURDIR)/var/ngsild.db

.PHONY: run test test-deep lint typecheck unit conformance bench bench-smoke clean mosquitto

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/python -m ngsild serve --host $(HOST) --port $(PORT) --store $(STORE)

# MQTT notifications are tested against a real mosquitto (Debian's package); the tests start their own
# on a free loopback port. Installed here when missing (needs root or sudo; without them the MQTT
# tests skip and say why).
mosquitto:
	@command -v mosquitto >/dev/null || test -x /usr/sbin/mosquitto || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto; } || \
	  echo "mosquitto could not be installed: the MQTT tests will skip"; }

lint: $(STAMP)
	$(BIN)/ruff check ngsild datamodels tests conformance bench mongo_standin.py mqtt_standin.py
	$(BIN)/ruff format --check ngsild datamodels tests conformance bench mongo_standin.py mqtt_standin.py

typecheck: $(STAMP)
	$(BIN)/mypy ngsild datamodels

unit: $(STAMP) mosquitto
	$(BIN)/pytest tests

conformance: $(STAMP) mosquitto
	$(BIN)/pytest conformance
	CONFORMANCE_STORE=mongodb $(BIN)/pytest conformance

# Store tests run on SQLite and on MongoDB: MONGO_URI names a real server, else a SecantusDB
# stand-in is started on loopback. The conformance suite runs once per store.
test: lint typecheck mosquitto
	$(BIN)/pytest tests conformance
	CONFORMANCE_STORE=mongodb $(BIN)/pytest conformance

# The same suites with many more hypothesis examples (minutes, not part of CI).
test-deep: lint typecheck
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest tests conformance
	HYPOTHESIS_PROFILE=deep CONFORMANCE_STORE=mongodb $(BIN)/pytest conformance

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench --store mongodb

bench-smoke: $(STAMP)
	$(BIN)/python -m bench --smoke

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
