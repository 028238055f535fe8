# fedproxy: the Makefile only wraps meson (see README.md).
BUILD ?= build
DEMO := $(BUILD)/demo

.PHONY: all deps run check bench clean install demo-pki

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@bash .ci/deps

$(BUILD)/build.ninja:
	meson setup $(BUILD)

# The demo PKI the built-in config names (pki/ relative to where it runs).
demo-pki: all
	@bash test/certs/mkpki.sh "$(CURDIR)/$(DEMO)/pki"

# The proxy in the foreground on the built-in etc/fedproxy.conf, loopback only.
run: deps demo-pki
	cd $(DEMO) && exec ../proxy/fedproxy

# Unit tests and sipp scenarios; the last line is "N passed, N failed".
check: deps all
	@bash test/run-all.sh $(BUILD)

# Performance against Kamailio on this machine (minutes; never part of check).
bench: deps all
	@bash test/bench/run.sh $(BUILD)

install: all
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD)
