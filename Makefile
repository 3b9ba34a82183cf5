# Sightline: `make run` and `make test` are the two commands a newcomer needs.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
DATA ?= ./sightline-data

.PHONY: deps build run test unit-test integration-test fuzz-build asan-test asan-test-gcc fuzz-test crash-test crash-test-long ops-test ui-test bench clean

deps:
	@echo "make: deps start at $$(date -u +%T)"
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	@echo "make: build starts at $$(date -u +%T)"
	cmake --build $(BUILD) -j $(JOBS)
	@bash scripts/build-ui.sh $(BUILD)/ui

# Builds, starts the server on the embedded store at http://127.0.0.1:4318 and loads
# the demo run once it is ready.
run: build
	@bash scripts/run.sh $(BUILD)/sightline $(DATA)

unit-test: build
	@echo "make test: unit-test starts at $$(date -u +%T)"
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300
	cd ui && npx --no-install vitest run

# The web UI in headless Debian Chromium (playwright-core) against the real server.
ui-test: build
	@echo "make test: ui-test starts at $$(date -u +%T)"
	@bash tests/ui/run.sh $(BUILD)/sightline $(BUILD)/ui

# Real clients (OpenTelemetry, Langfuse and OpenInference SDKs from npm) and the CLI,
# against the real server binary.
integration-test: build
	@echo "make test: integration-test starts at $$(date -u +%T)"
	@bash tests/run_integration.sh $(BUILD)/sightline
	@bash tests/cli/cli_e2e.sh $(BUILD)/sightline

crash-test: build
	@echo "make test: crash-test starts at $$(date -u +%T)"
	@bash tests/crash/run.sh $(BUILD)/sightline

# The kill -9 loop for longer: ROUNDS=500 by default.
crash-test-long: build
	@ROUNDS=$${ROUNDS:-500} bash tests/crash/run.sh $(BUILD)/sightline

# SIGTERM under load, bit flips in log and segment files, overload, a real Prometheus
# scraping /metrics: process-level.
ops-test: build
	@echo "make test: ops-test starts at $$(date -u +%T)"
	@bash tests/ops/run.sh $(BUILD)/sightline

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSIGHTLINE_SANITIZE=ON

# Part of the suite under AddressSanitizer + UndefinedBehaviorSanitizer. It runs in the
# fuzz build (clang, ASan + UBSan on every object), so that CI compiles the libraries
# under sanitizers once for both; UBSan's reports fail the test (halt_on_error).
# `make asan-test-gcc` runs the same suites in a gcc Debug build ($(ASAN_BUILD)).
asan-test: deps $(FUZZ_BUILD)/build.ninja
	@echo "make test: asan-test starts at $$(date -u +%T)"
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(ASAN_TESTS)
	cd $(FUZZ_BUILD) && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$(CURDIR)/tests/sanitizers/ubsan.supp ctest --output-on-failure -j $(JOBS) --timeout 600 -L 'common|store|ingest|query'

asan-test-gcc: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target common_test store_test ingest_test query_test
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600 -L 'common|store|ingest|query'

$(FUZZ_BUILD)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGHTLINE_FUZZ=ON

# The clang build of both: the sanitizer suites' binaries and the fuzz targets, in one run.
ASAN_TESTS = common_test store_test ingest_test query_test
fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(ASAN_TESTS) $(FUZZERS)

# Each libFuzzer target runs briefly over its seed corpus.
FUZZERS = otlp_protobuf_fuzz otlp_walk_fuzz otlp_json_fuzz gunzip_fuzz normalize_fuzz wal_reader_fuzz columnar_reader_fuzz redaction_policy_fuzz manifest_reader_fuzz audit_reader_fuzz pricing_catalogue_fuzz config_fuzz auth_credentials_fuzz span_wire_fuzz word_code_fuzz
fuzz-test: deps $(FUZZ_BUILD)/build.ninja
	@echo "make test: fuzz-test starts at $$(date -u +%T)"
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZERS)
	@bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Every suite; scripts/test-all.sh runs the clang build beside the gcc build's suites.
test:
	@MAKE="$(MAKE)" FUZZ_BUILD="$(FUZZ_BUILD)" bash scripts/test-all.sh

bench: build
	@bash scripts/install-bench-deps.sh
	@bash bench/run.sh $(BUILD)
	@node bench/ui_bench.mjs $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
