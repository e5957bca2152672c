# Floorwalker. The two commands: `make demo` and `make test`. Both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export WRANGLER_SEND_METRICS := false
export CHROMEDRIVER := /usr/bin/chromedriver
# Cargo-installed tools (wasm-bindgen, worker-build) must be found even where ~/.cargo/bin is not on PATH.
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)

CORE_SRC := $(shell find core -type f -not -path '*/target/*') Cargo.toml Cargo.lock
WIDGET_SRC := $(CORE_SRC) $(shell find widget/src widget/loader widget-ui/src browser-kit/src -type f) widget/Cargo.toml widget-ui/Cargo.toml browser-kit/Cargo.toml scripts/build-widget.sh scripts/drop-stream-classes.mjs scripts/short-wasm-names.mjs scripts/wasm-env.sh
CONSOLE_SRC := $(CORE_SRC) $(shell find console/src browser-kit/src -type f) console/Cargo.toml browser-kit/Cargo.toml console/index.html console/console.css scripts/build-console.sh widget/src/widget.css
WORKER_SRC := $(CORE_SRC) $(shell find edge-worker/src -type f) edge-worker/Cargo.toml scripts/build-worker.sh
SITE_SRC := $(shell find demo-site -type f)

.PHONY: help setup build demo test test-unit test-widget test-e2e bench bench-chat bench-webhooks bench-funnel operator owner deploy-check clean

help:
	@echo "make demo          build everything and run the demo shop, widget and worker on http://127.0.0.1:$${PORT:-8787}"
	@echo "make test          run every test (unit, widget in headless Chromium, end to end)"
	@echo "make bench         what a visit costs: widget bytes (first load, + cards, + chat) and main-thread time, against issue 16's goals"
	@echo "make bench-chat    chat latency p50/p99 with 1, 100, 500 conversations; the local stack's RSS and CPU (RATE=R: open-loop at R msg/s, SECONDS=15)"
	@echo "make operator      create a console operator on a running worker (see the Makefile)"
	@echo "make owner         create a site owner (the console's Install screen and the rest) on a running worker"
	@echo "make bench-webhooks  lead -> CRM delivery latency, throughput and losses through the real worker"
	@echo "make bench-funnel  the owner's funnel for 90 days over 1,000,000 stored events, against its 200 ms budget"
	@echo "make deploy-check  bundle the worker as 'wrangler deploy' would, offline"

setup: target/.setup-done
# Also whenever node_modules is gone (a fresh `rm -rf node_modules`, a target/ copied from elsewhere).
target/.setup-done: scripts/setup.sh package.json package-lock.json Cargo.lock $(if $(wildcard node_modules/.package-lock.json),,FORCE)
	@bash scripts/setup.sh
	@touch $@

FORCE:

build: setup dist/public/index.html target/.widget-built target/.console-built edge-worker/build/index.js

dist/public/index.html: $(SITE_SRC)
	cargo run -q -p floorwalker-demo-site -- dist/public

target/.widget-built: $(WIDGET_SRC) dist/public/index.html
	bash scripts/build-widget.sh
	@touch $@

target/.console-built: $(CONSOLE_SRC) dist/public/index.html
	bash scripts/build-console.sh
	@touch $@

edge-worker/build/index.js: $(WORKER_SRC)
	bash scripts/build-worker.sh

demo: build
	cargo run -q -p floorwalker-e2e --bin floorwalker-dev

# Runs the three suites, then prints one closing line that sums them all.
test: build
	@mkdir -p target; $(MAKE) --no-print-directory test-unit test-widget test-e2e 2>&1 | tee target/test.log; \
	status=$${PIPESTATUS[0]}; \
	awk '/^test result:/ { passed += $$4; failed += $$6 } \
	  / Summary \[/ { for (i = 2; i <= NF; i++) { if ($$i ~ /^passed/) passed += $$(i-1); if ($$i ~ /^(failed|timed)/) failed += $$(i-1) } } \
	  END { printf "\nmake test: %d passed, %d failed\n", passed, failed }' target/test.log; \
	exit $$status

test-unit: setup
	cargo test -p floorwalker-core -p floorwalker-demo-site

test-widget: setup
	source scripts/wasm-env.sh && cd widget && cargo test --target wasm32-unknown-unknown

# With cargo-nextest (on CI's machines; `.config/nextest.toml` says how), the suites run side by
# side; without it, one after another through cargo test.
test-e2e: build
	@if cargo nextest --version >/dev/null 2>&1; then \
	  cargo nextest run --no-fail-fast -p floorwalker-e2e; \
	else \
	  cargo test --no-fail-fast -p floorwalker-e2e; \
	fi

bench: build
	bash scripts/bench.sh

# Chat latency (p50/p99) with 1, 100 and 500 concurrent conversations, and the local stack's RSS/CPU.
bench-chat: build
	cargo run -q -p floorwalker-e2e --bin floorwalker-bench-chat -- $(or $(SIZES),1 100 500)

# Creates an operator on a running worker (e.g. `make demo`):
#   make operator EMAIL=anna@shop.example NAME=Anna PASSWORD='long password' ADMIN_TOKEN=... [URL=http://127.0.0.1:8787] [SITE=demo]
operator:
	@ROLE=operator bash scripts/add-member.sh

# Creates a site's owner the same way: owners log in at /console/ too and also get the site's own
# screens (Install, ...); the admin token stays for bootstrap and automation:
#   make owner EMAIL=olga@shop.example NAME=Olga PASSWORD='long password' ADMIN_TOKEN=... [URL=http://127.0.0.1:8787] [SITE=demo]
owner:
	@ROLE=owner bash scripts/add-member.sh
# LEADS, CONCURRENCY and OUTAGE_LEADS tune the run (see tests/src/bin/floorwalker-bench-webhooks.rs).
bench-webhooks: build
	cargo run -q -p floorwalker-e2e --bin floorwalker-bench-webhooks

# EVENTS and RUNS tune the run (see tests/src/bin/floorwalker-bench-funnel.rs).
bench-funnel: build
	cargo run -q -p floorwalker-e2e --bin floorwalker-bench-funnel

deploy-check: build
	node_modules/.bin/wrangler deploy --dry-run --outdir target/deploy-check

clean:
	rm -rf dist target/widget-pkg target/console-pkg target/e2e edge-worker/build target/.widget-built target/.console-built target/.setup-done
