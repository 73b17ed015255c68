# defrost — set-up, run and test. `make run` and `make test` work on a fresh Debian/Ubuntu
# machine with Node 20: they install what is missing (npm packages; OpenBLAS via apt-get when
# running as root), build the TypeScript and the native kernels, then run.
SHELL := /bin/bash
NODE ?= node
CONFIG ?= experiments/default.yaml
DEFROST := $(NODE) bin/defrost.js
STAMP := node_modules/.defrost-install-stamp

.PHONY: setup deps native build lint run test browser bench chaos clean docs

setup: deps native build

# npm packages, reinstalled when package.json or the lock file changes. onnxruntime-node (the
# tests' ONNX oracle) ships its CPU binaries in the package; its install script would only fetch
# optional GPU ones from outside the npm registry, so it is told to skip them.
deps: $(STAMP)
$(STAMP): package.json $(wildcard package-lock.json)
	ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
	@touch $@

# The native addons (scripts/build-native.mjs): OpenBLAS kernels for the wasm backend, and the
# libtorch step for imported graphs. libopenblas-dev and libtorch-dev are installed with apt-get
# when running as root. Never fails set-up: without OpenBLAS defrost runs on plain wasm, without
# libtorch imported graphs train on TensorFlow.js's step, and it says so.
native: deps
	@$(NODE) scripts/build-native.mjs

# Incremental tsc, then the build stamp (source hashes and import graph: bin/defrost.js refuses or
# rebuilds a dist/ older than its sources; see docs/architecture.md).
build: deps
	$(NODE) scripts/build.mjs

# docs/config.md from the zod config schema, the registries' tables (stages/registry-docs.ts) and
# docs/tables.md from the table declarations; `make test` fails while one is stale.
docs: build
	$(NODE) scripts/docs.mjs

run: setup
	$(DEFROST) run $(CONFIG)

# Debian's Chromium for the report's headless-browser test (apt-get when root and missing).
browser:
	@bash scripts/ensure-chromium.sh

# eslint (typescript-eslint) and prettier: style and the `any`-free public interfaces.
lint: deps
	npx eslint .
	npx prettier --check .

# Chromium first (an apt-get install must not race the native build's), then the native build, the
# TypeScript build and the lint two at a time (a sub-make with -j2, each job's output in one
# piece): none reads what another writes. Then the suite (scripts/test.mjs: which test files run
# two at a time and which alone). `npm test` runs exactly this target.
test: deps browser
	@$(MAKE) --no-print-directory -j2 --output-sync=target native build lint
	$(NODE) scripts/test.mjs

bench: setup
	$(NODE) scripts/bench.mjs
	$(NODE) scripts/bench-resnet8.mjs

chaos: setup
	$(NODE) dist/bench/chaos/run.js

clean:
	rm -rf dist native/build test/out bench/out
