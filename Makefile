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
PLATFORM    := $(shell uname -s | tr A-Z a-z)_$(shell uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')
PLUGIN_PATH := registry.terraform.io/eksidentity/eksidentity/$(VERSION)/$(PLATFORM)
# Terraform and OpenTofu expand the source "eksidentity/eksidentity" with different default registry hosts.
PLUGIN_HOSTS := registry.terraform.io registry.opentofu.org

export TERRAFORM

.PHONY: help demo tools build build-release install test unit-test protocol-test emulator-test acceptance emulator lint docs release acceptance-real acceptance-full bench

help:
	@echo "make demo     build, start the local AWS emulator, apply examples/quickstart, show, destroy"
	@echo "              (make demo AWS=real: the same against EKSIDENTITY_CLUSTER_NAME in a real account)"
	@echo "make test     every test: unit, protocol, emulator, acceptance (installs its tools)"
	@echo "make acceptance  only the acceptance tests (terraform + provider + emulator)"
	@echo "make acceptance-full  the same at full size (every AWS call of the fault matrix refused in turn)"
	@echo "make tools    install pinned Terraform 1.0.3 and the Python venv into .tools/"
	@echo "make build    debug build of the provider"
	@echo "make install  place the provider in build/plugins for 'terraform init -plugin-dir'"
	@echo "make emulator run the local AWS emulator in the foreground"
	@echo "make docs     regenerate docs/ from templates/, examples/ and the schemas"
	@echo "make release  release build, zip, SHA256SUMS and manifest in dist/"
	@echo "make bench    benchmarks (several minutes): prints the figures and rewrites bench/results.md"

tools:
	@scripts/install-tools.sh

# The quick start end to end (scripts/demo.py): tools, build, emulator, apply, outputs, empty re-plan, destroy,
# leak check. AWS=real runs it against EKSIDENTITY_CLUSTER_NAME in the account and region of the AWS environment.
AWS ?=
demo:
	@python3 scripts/demo.py --aws "$(AWS)"

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

# Only the provider binary is installed or released; eksidentity-docs is a development tool.
install: build
	@for host in $(PLUGIN_HOSTS); do \
	  dir=$(PLUGIN_DIR)/$$host/eksidentity/eksidentity/$(VERSION)/$(PLATFORM); \
	  mkdir -p $$dir && cp target/debug/$(BINARY) $$dir/$(BINARY)_v$(VERSION) && echo "installed $$dir/$(BINARY)_v$(VERSION)"; \
	done

docs:
	cargo run --quiet --bin eksidentity-docs

release:
	@scripts/release.sh $(VERSION)

unit-test:
	cargo test --lib

# The go-plugin client tests: the built binary, started as Terraform starts it, over AutoMTLS.
protocol-test:
	cargo test --test protocol

# Every acceptance-tests/<topic>.rs (real terraform + the provider + the emulator), at the sizes CI runs.
ACCEPTANCE_TESTS := $(basename $(notdir $(wildcard acceptance-tests/*.rs)))
acceptance: tools
	cargo test $(addprefix --test ,$(ACCEPTANCE_TESTS))

# The acceptance tests at full size: the fault matrix refuses every AWS call of each phase in turn (the default
# run refuses the first call of each phase and every call from its first change on).
acceptance-full: tools
	EKSIDENTITY_FAULTS=all cargo test $(addprefix --test ,$(ACCEPTANCE_TESTS))

# The benchmarks are not run here (that is make bench), but they are compiled so CI notices when they break.
test: tools emulator-test
	cargo test
	cargo test --benches --no-run

# The acceptance scenarios against a real AWS account and EKS cluster (creates and deletes IAM roles, pod identity
# associations, and the OIDC provider / agent addon when absent). Needs EKSIDENTITY_CLUSTER_NAME and AWS credentials
# and region the usual way. Emulator-only tests (named emu_*) are skipped by name.
acceptance-real: tools
	@test -n "$(EKSIDENTITY_CLUSTER_NAME)" || { echo "set EKSIDENTITY_CLUSTER_NAME to an EKS cluster in your AWS region" >&2; exit 1; }
	EKSIDENTITY_REAL_AWS=1 cargo test $(addprefix --test ,$(ACCEPTANCE_TESTS)) -- --skip emu_ --test-threads=1

# Release build, Go provider fetched into .tools/bench/, criterion micro benches, start-up and scale benches.
# BENCH_ARGS go to the system bench, e.g. BENCH_ARGS="--rounds 5 --n 100".
bench:
	@bench/run.sh $(BENCH_ARGS)
