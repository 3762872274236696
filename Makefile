# eksidentity: the two commands a new user runs are `make demo` and `make test`.
# Everything else they need is installed by `make tools` into .tools/ (ignored by git).

SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT        := $(abspath .)
TOOLS       := $(ROOT)/.tools
VENV        := $(TOOLS)/venv
PYTHON      := $(VENV)/bin/python
# Point TERRAFORM at a newer terraform or at tofu to test with it instead of the pinned 1.0.3.
TERRAFORM   ?= $(TOOLS)/bin/terraform
VERSION     := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
BINARY      := terraform-provider-eksidentity
PLUGIN_DIR  := $(ROOT)/build/plugins
PLUGIN_PATH := registry.terraform.io/eksidentity/eksidentity/$(VERSION)/linux_amd64

export TERRAFORM

.PHONY: help tools build build-release install test unit-test protocol-test emulator-test acceptance emulator lint

help:
	@echo "make demo     build, start the local AWS emulator, apply the examples, destroy"
	@echo "make test     every test: unit, protocol, emulator, acceptance (installs its tools)"
	@echo "make tools    install pinned Terraform 1.0.3 and the Python venv into .tools/"
	@echo "make build    debug build of the provider"
	@echo "make install  place the provider in build/plugins for 'terraform init -plugin-dir'"
	@echo "make emulator run the local AWS emulator in the foreground"

tools:
	@scripts/install-tools.sh

# The local AWS emulator (acceptance-tests/README.md). EMULATOR_ARGS, e.g. "--port 4566 --addon-delay 1".
EMULATOR_ARGS ?= --port 0
emulator:
	@test -x $(PYTHON) || { echo "run 'make tools' first" >&2; exit 1; }
	@exec $(PYTHON) acceptance-tests/emulator/run.py $(EMULATOR_ARGS)

emulator-test: tools
	$(PYTHON) -m pytest acceptance-tests/emulator/tests

build:
	cargo build --bin $(BINARY)

build-release:
	cargo build --release --bin $(BINARY)

install: build
	@mkdir -p $(PLUGIN_DIR)/$(PLUGIN_PATH)
	@cp target/debug/$(BINARY) $(PLUGIN_DIR)/$(PLUGIN_PATH)/$(BINARY)_v$(VERSION)
	@echo "installed $(PLUGIN_DIR)/$(PLUGIN_PATH)/$(BINARY)_v$(VERSION)"

unit-test:
	cargo test --lib

test: tools emulator-test
	cargo test
