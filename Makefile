# cnimigrate — two commands for a new user: `make demo` and `make test`. Everything else is a step of those.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
GO_TEST_TIMEOUT ?= 75m

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install the missing Debian packages of every command in hack/deps.txt
	@hack/deps.sh

.PHONY: tools
tools: ## build the lab's Kubernetes tools once into ~/.cache/cnimigrate (first time ~20 min)
	@hack/tools.sh >/dev/null
	@echo "[tools] ready in $$(hack/tools.sh --check)"

.PHONY: build
build: ## build every module into library/ for this host, one line each (size, time)
	@hack/build.sh

.PHONY: dist
dist: ## build every module for this host and for linux_amd64 and linux_arm64 nodes
	@hack/build.sh --dist

.PHONY: lint
lint: deps ## gofmt, go vet, yamllint, ansible-lint
	@echo "[lint] gofmt"; test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^hack/tools/'))" || { gofmt -l .; exit 1; }
	@echo "[lint] go vet"; $(GO) vet ./...
	@echo "[lint] yamllint"; yamllint --strict .
	@echo "[lint] ansible-lint"; ansible-lint --offline -q
	@echo "[lint] hack/deps.txt parses and every command it lists is installed"; hack/deps.sh --guard-path >/dev/null

.PHONY: test-short
test-short: ## fast unit tests only (go test -short ./...)
	$(GO) test -short ./...

.PHONY: test
test: deps tools build lint ## everything: unit, fuzz seeds, integration on the local lab, Ansible over SSH, e2e
	@echo "[test] go test (integration tests bring up local labs; tools: $$(hack/tools.sh --check))"
	@echo "[test] PATH holds only the commands of hack/deps.txt: an unlisted command fails here, not on a fresh machine"
	guard=$$(hack/deps.sh --guard-path); \
	CNIMIGRATE_TOOLS=$$(hack/tools.sh --check) CNIMIGRATE_GUARD_PATH=$$guard PATH=$$guard \
		$$guard/go test -count=1 -timeout $(GO_TEST_TIMEOUT) ./...

.PHONY: lab-up
lab-up: deps tools build ## start the local K3s-shaped lab with Calico and workloads
	@CNIMIGRATE_TOOLS=$$(hack/tools.sh --check) $(GO) run ./hack/lab up

.PHONY: lab-down
lab-down: ## stop the local lab and remove everything it made
	@$(GO) run ./hack/lab down

.PHONY: demo
demo: deps tools build ## the whole story on the local lab: Calico cluster → migration playbook → report
	@hack/demo.sh

.PHONY: e2e-kind
e2e-kind: deps tools build ## the e2e features on kind: real pods, real Calico and Cilium datapaths (starts its own Docker engine, builds its images once)
	@hack/e2e-kind.sh

.PHONY: bench
bench: deps tools build ## measure the tool against its anchors and print the comparison table
	@hack/bench.sh

.PHONY: clean
clean: ## remove built binaries (the tools cache in ~/.cache/cnimigrate stays)
	rm -f $$(ls library/* | grep -v '\.yml$$' | grep -v README.md) 2>/dev/null || true

.PHONY: e2e-all
e2e-all: deps tools build ## every e2e scenario on the lab: both strategies × both Calico flavours (nightly, ~1 h)
	CNIMIGRATE_E2E_ALL=1 CNIMIGRATE_TOOLS=$$(hack/tools.sh --check) $(GO) test -count=1 -v -timeout 120m ./e2e/migration/
