# fedproxy: the Makefile only wraps meson (see README.md).
BUILD ?= build
DEMO := $(BUILD)/demo

.PHONY: all deps run check check-sanitize check-valgrind bench fuzz soak clean install demo-pki

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@bash .ci/deps

$(BUILD)/build.ninja:
	meson setup $(BUILD)

# The demo PKI and presence table the built-in config names (relative to
# where it runs).
demo-pki: all
	@bash test/certs/mkpki.sh "$(CURDIR)/$(DEMO)/pki"
	@cp etc/presence-map.conf $(DEMO)/

# The proxy in the foreground on the built-in etc/fedproxy.conf, loopback only.
run: deps demo-pki
	cd $(DEMO) && exec ../proxy/fedproxy

# Unit tests and sipp scenarios; the last line is "N passed, N failed".
check: deps all
	@bash test/run-all.sh $(BUILD)

# The unit tests built with AddressSanitizer and UndefinedBehaviorSanitizer
# (SUITES="unit scenario" for more).
SUITES ?= unit
check-sanitize: deps
	@[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C build-asan
	@bash test/run-all.sh build-asan $(addprefix --suite ,$(SUITES))

# The scenario suite with the proxy under valgrind (memory errors fail a
# test; slow: about 5x the normal run).
check-valgrind: deps all
	@FEDPROXY_WRAP="valgrind --leak-check=full --errors-for-leak-kinds=definite" \
		bash test/run-all.sh $(BUILD) --suite scenario --timeout-multiplier 4

# Performance against Kamailio on this machine (minutes; never part of check).
# run.sh also runs the presence micro-benchmark (meson test --benchmark runs
# it alone).
bench: deps all
	@bash test/bench/run.sh $(BUILD)

# Mixed traffic for SOAK_MINUTES with reloads, dropped connections and a node
# restart: every transaction must end, RSS must stay flat (never in CI).
SOAK_MINUTES ?= 10
soak: deps all
	@bash test/soak/run.sh $(BUILD) $(SOAK_MINUTES)

# libFuzzer targets (clang), FUZZ_SECONDS each (CI runs a short smoke).
FUZZ_SECONDS ?= 60
fuzz: deps
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true
	ninja -C build-fuzz
	@bash test/fuzz/run.sh $(CURDIR)/build-fuzz $(FUZZ_SECONDS)

install: all
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) build-fuzz build-asan
