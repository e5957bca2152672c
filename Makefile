# Floorwalker. The two commands: `make demo` and `make test`. Both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export WRANGLER_SEND_METRICS := false
export CHROMEDRIVER := /usr/bin/chromedriver

CORE_SRC := $(shell find core -type f -not -path '*/target/*') Cargo.toml Cargo.lock
WIDGET_SRC := $(CORE_SRC) $(shell find widget/src widget/loader -type f) widget/Cargo.toml scripts/build-widget.sh
WORKER_SRC := $(CORE_SRC) $(shell find edge-worker/src -type f) edge-worker/Cargo.toml scripts/build-worker.sh
SITE_SRC := $(shell find demo-site -type f)

.PHONY: help setup build demo test test-unit test-widget test-e2e bench bench-webhooks deploy-check clean

help:
	@echo "make demo          build everything and run the demo shop, widget and worker on http://127.0.0.1:$${PORT:-8787}"
	@echo "make test          run every test (unit, widget in headless Chromium, end to end)"
	@echo "make bench         measure widget transfer size and main-thread cost"
	@echo "make bench-webhooks  lead -> CRM delivery latency, throughput and losses through the real worker"
	@echo "make deploy-check  bundle the worker as 'wrangler deploy' would, offline"

setup: target/.setup-done
target/.setup-done: scripts/setup.sh package.json package-lock.json Cargo.lock
	@bash scripts/setup.sh
	@touch $@

build: setup dist/public/index.html target/.widget-built edge-worker/build/index.js

dist/public/index.html: $(SITE_SRC)
	cargo run -q -p floorwalker-demo-site -- dist/public

target/.widget-built: $(WIDGET_SRC) dist/public/index.html
	bash scripts/build-widget.sh
	@touch $@

edge-worker/build/index.js: $(WORKER_SRC)
	bash scripts/build-worker.sh

demo: build
	cargo run -q -p floorwalker-e2e --bin floorwalker-dev

# Runs the three suites, then prints one closing line that sums them all.
test: build
	@mkdir -p target; $(MAKE) --no-print-directory test-unit test-widget test-e2e 2>&1 | tee target/test.log; \
	status=$${PIPESTATUS[0]}; \
	awk '/^test result:/ { passed += $$4; failed += $$6 } END { printf "\nmake test: %d passed, %d failed\n", passed, failed }' target/test.log; \
	exit $$status

test-unit: setup
	cargo test -p floorwalker-core -p floorwalker-demo-site

test-widget: setup
	source scripts/wasm-env.sh && cd widget && cargo test --target wasm32-unknown-unknown

test-e2e: build
	cargo test -p floorwalker-e2e

bench: build
	bash scripts/bench.sh

# LEADS, CONCURRENCY and OUTAGE_LEADS tune the run (see tests/src/bin/floorwalker-bench-webhooks.rs).
bench-webhooks: build
	cargo run -q -p floorwalker-e2e --bin floorwalker-bench-webhooks

deploy-check: build
	node_modules/.bin/wrangler deploy --dry-run --outdir target/deploy-check

clean:
	rm -rf dist target/widget-pkg target/e2e edge-worker/build target/.widget-built target/.setup-done
