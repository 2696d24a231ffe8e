# SPDX-License-Identifier: Apache-2.0
#
# Thin wrapper over Meson so that the README's two commands work on a fresh
# Debian machine: `make run` and `make test`.

DATA    ?= data
LISTEN  ?= 127.0.0.1:8443
PLAIN_LISTEN ?= 127.0.0.1:8080
BUILD   := build
TBUILD  := build-test

.PHONY: all run test deps build build-test bench clean

all: build

deps:
	@scripts/deps.sh run

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)
	@scripts/web.sh

run: build
	@scripts/run.sh $(BUILD)/src/daemon/certdesk $(DATA) $(LISTEN) $(PLAIN_LISTEN)

$(TBUILD)/build.ninja:
	meson setup $(TBUILD) --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false -Dtests=true

build-test: $(TBUILD)/build.ninja
	@scripts/deps.sh test
	meson compile -C $(TBUILD)

# the release build too, so that what `make run` compiles (-O3 warnings
# differ) is checked by every CI run
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory build-test
	@scripts/test.sh $(TBUILD)

bench: build
	@scripts/deps.sh bench
	bench/run.sh $(BUILD)
	bench/acme_bench.sh $(BUILD)
	bench/ocsp_bench.sh $(BUILD)
	bench/sign_bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TBUILD)
