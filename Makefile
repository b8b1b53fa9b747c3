# searchd: `make run` to try it, `make test` to check it. Both install what is missing first.
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
BINDIR = $(DESTDIR)$(PREFIX)/bin
UNITDIR = $(DESTDIR)$(PREFIX)/lib/systemd/system

# Debian packages the build and the tests need beyond a Swift toolchain.
APT_PACKAGES = libsystemd-dev pkg-config python3
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build release run test lint format install uninstall clean

all: build

# apt-get update runs once, and only when something is missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Foreground, built-in index, the app protocol on 127.0.0.1:65432 and echo on :65433. Ctrl-C stops it.
run: build
	$$($(SWIFT) build --show-bin-path)/searchd --listen 127.0.0.1:65432 --echo-listen 127.0.0.1:65433

test: deps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

lint:
	swift-format lint --strict --recursive Package.swift Sources Tests

format:
	swift-format format --in-place --recursive Package.swift Sources Tests

install: release
	install -d $(BINDIR)
	install -m 755 $$($(SWIFT) build -c release --show-bin-path)/searchd $(BINDIR)/searchd
	install -m 755 $$($(SWIFT) build -c release --show-bin-path)/searchctl $(BINDIR)/searchctl

uninstall:
	rm -f $(BINDIR)/searchd $(BINDIR)/searchctl

clean:
	rm -rf .build .build-*
