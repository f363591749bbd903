# lbfn: `make run` serves every function locally against the embedded emulator; `make test`
# is what CI runs. Targets are grouped by owner of the behaviour; keep each group together.

GO       ?= go
GOFLAGS  ?=
# Every functions/<name> with a main.go is a Lambda function (functions/gcp is a library).
FUNCTIONS := $(notdir $(patsubst %/main.go,%,$(wildcard functions/*/main.go)))
FUZZTIME ?= 10s

.PHONY: all test check fmt-check vet unit fuzz bench tidy-check bench-check deps

all: test

## ---- test: what CI runs -------------------------------------------------------------------

test: deps check unit fuzz

deps:
	$(GO) mod download

check: fmt-check vet tidy-check bench-check

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path '*/node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

tidy-check:
	@cp go.mod /tmp/lbfn-go.mod.bak; cp go.sum /tmp/lbfn-go.sum.bak; \
	$(GO) mod tidy; \
	if ! git diff --quiet -- go.mod go.sum; then echo "go mod tidy changes go.mod/go.sum"; git diff -- go.mod go.sum | head -40; \
	  cp /tmp/lbfn-go.mod.bak go.mod; cp /tmp/lbfn-go.sum.bak go.sum; exit 1; fi

unit:
	$(GO) test -count=1 ./...

# Each fuzz target runs for FUZZTIME; `go test -fuzz` takes one target per package per run.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for fz in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$fz ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# bench/ is a module of its own (the product never links the official SDK it is compared
# with): make test only vets it and checks its go.mod/go.sum are tidy; make bench runs it.
bench-check:
	@cd bench && $(GO) vet ./... && cp go.mod /tmp/lbfn-bench-go.mod.bak && cp go.sum /tmp/lbfn-bench-go.sum.bak && \
	$(GO) mod tidy && if ! git diff --quiet -- go.mod go.sum; then echo "go mod tidy changes bench/go.mod or bench/go.sum"; \
	  git diff -- go.mod go.sum | head -40; cp /tmp/lbfn-bench-go.mod.bak go.mod; cp /tmp/lbfn-bench-go.sum.bak go.sum; exit 1; fi

## ---- bench: every package's benchmarks, then lbfn against the official-SDK handler ----------
# The second step measures both sides in one run and writes docs/BENCHMARKS.md (never edit it
# by hand); BENCHFLAGS=-quick checks that it all runs, in about a minute, without figures.
BENCHTIME  ?= 200ms
BENCHFLAGS ?=
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...
	cd bench && $(GO) run ./cmd/lbfn-bench -root .. $(if $(filter -quick,$(BENCHFLAGS)),,-out ../docs/BENCHMARKS.md) $(BENCHFLAGS)

# The fault soak at length (minutes): SOAK_REQUESTS requests per function through SQS batches
# to the real binaries while a third of the provider calls fail; `make unit` runs a short one.
SOAK_REQUESTS ?= 400
SOAK_SEED     ?= 10
.PHONY: soak
soak:
	LBFN_SOAK_REQUESTS=$(SOAK_REQUESTS) LBFN_SOAK_SEED=$(SOAK_SEED) \
	  $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 30m ./shared/e2e

## ---- build and deploy: Lambda bootstraps, SAM's makefile builder, deploy tools -------------
# `make build` writes build/<function>/bootstrap and build/<function>.zip for every function.
# `sam build` calls build-<LogicalId> (template.yaml) with ARTIFACTS_DIR set. deploy/README.md
# tells the rest.

BUILD_DIR    ?= build
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"
# lambda-build FUNCTION OUTPUT: the arm64 provided.al2023 bootstrap of functions/FUNCTION.
lambda-build = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $(2) ./functions/$(1)

# One target per function logical id in template.yaml; FN names its directory under functions/.
SAM_TARGETS := build-JdcloudCreateBackendFunction build-HuaweiCreatePoolFunction \
               build-HuaweiCreateLbaasPoolFunction build-HuaweiCreateMasterSlavePoolFunction \
               build-CtyunCreatePolicyFunction build-ChatopsFunction
build-JdcloudCreateBackendFunction:        FN := jdcloud-create-backend
build-HuaweiCreatePoolFunction:            FN := huawei-create-pool
build-HuaweiCreateLbaasPoolFunction:       FN := huawei-create-lbaas-pool
build-HuaweiCreateMasterSlavePoolFunction: FN := huawei-create-master-slave-pool
build-CtyunCreatePolicyFunction:           FN := ctyun-create-policy
build-ChatopsFunction:                     FN := chatops

.PHONY: build deps-npm deps-tools $(SAM_TARGETS)

build:
	@set -e; for fn in $(FUNCTIONS); do \
	  echo "build $$fn -> $(BUILD_DIR)/$$fn.zip"; \
	  $(call lambda-build,$$fn,$(BUILD_DIR)/$$fn/bootstrap); \
	  $(GO) run ./deploy/zipbootstrap $(BUILD_DIR)/$$fn.zip $(BUILD_DIR)/$$fn/bootstrap; \
	done

$(SAM_TARGETS):
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	$(call lambda-build,$(FN),$(ARTIFACTS_DIR)/bootstrap)

# The offline validators of deploy/ (cfnspec, asl-validator, shellcheck); the tests skip with a
# reason when one is missing.
deps: deps-npm deps-tools

deps-npm:
	@if command -v npm >/dev/null 2>&1; then \
	  cd deploy/tools && npm ci --no-audit --no-fund; \
	else echo "npm not found: the template and state machine checks will be skipped"; fi

deps-tools:
	@command -v shellcheck >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null 2>&1 && \
	    { apt-get install -y shellcheck >/dev/null 2>&1 || \
	      { apt-get update >/dev/null 2>&1 && apt-get install -y shellcheck >/dev/null 2>&1; }; }; } || \
	  echo "shellcheck could not be installed: the deploy script check will be skipped"

## ---- run / invoke: try the functions locally (see README.md) ------------------------------

.PHONY: run invoke

# Every function at http://127.0.0.1:8080/<function>; the emulator at http://127.0.0.1:8090.
run:
	$(GO) run ./shared/cmd/lbfn-dev

# One function's Lambda binary, run once on an event file against the emulator:
#   make invoke FN=huawei-create-pool EVENT=events/huawei-create-pool/sqs.json
invoke:
	@if [ -z "$(FN)" ] || [ -z "$(EVENT)" ]; then \
	  echo "usage: make invoke FN=<function> EVENT=<event file>"; exit 2; fi
	$(GO) run ./shared/cmd/lbfn-invoke -function "$(FN)" -event "$(EVENT)"
