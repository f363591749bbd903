# lbfn: `make run` serves every function locally against the embedded emulator; `make test`
# is what CI runs. Targets are grouped by owner of the behaviour; keep each group together.

GO       ?= go
GOFLAGS  ?=
# Every functions/<name> with a main.go is a Lambda function (functions/gcp is a library).
FUNCTIONS := $(notdir $(patsubst %/main.go,%,$(wildcard functions/*/main.go)))
FUZZTIME ?= 10s

.PHONY: all test check fmt-check vet unit fuzz bench tidy-check bench-check generate

all: test

## ---- test: what CI runs -------------------------------------------------------------------
# `make test` installs nothing beyond the project's own modules and npm validators (`make deps`);
# tools from the system's package manager are `make tools`, which .ci/run calls first.

test: deps check unit fuzz

check: fmt-check vet tidy-check bench-check

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path '*/node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# go mod tidy on a copy: go.mod and go.sum are put back as they were whatever it does.
tidy-check:
	@set -e; backup=$$(mktemp -d); trap 'cp "$$backup/go.mod" "$$backup/go.sum" .; rm -rf "$$backup"' EXIT; \
	cp go.mod go.sum "$$backup/"; \
	$(GO) mod tidy; \
	if ! cmp -s go.mod "$$backup/go.mod" || ! cmp -s go.sum "$$backup/go.sum"; then \
	  echo "go mod tidy changes go.mod/go.sum:"; diff -u "$$backup/go.mod" go.mod | head -40 || true; exit 1; fi

# Rewrites what follows shared/catalog (template.yaml's per-function parts, deploy.sh's list,
# events/<function>/'s envelopes, the README tables); `make unit` fails while any is stale.
generate:
	$(GO) run ./deploy/gen -update

unit:
	$(GO) test -count=1 ./...

# Each fuzz target runs for FUZZTIME; `go test -fuzz` takes one target per package per run.
# Go 1.26's fuzz coordinator can report its own -fuzztime deadline as a failure ("context
# deadline exceeded", https://go.dev/issue/75804, fixed in Go 1.27) when a worker is slow to
# stop: a run failing so without writing a failing input under testdata/fuzz/ is not a failure.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for fz in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$fz ($(FUZZTIME))"; \
	    before=$$(ls "$$dir/testdata/fuzz/$$fz" 2>/dev/null | wc -l); \
	    if out=$$($(GO) test -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); then \
	      echo "$$out" | tail -n 2; \
	    else \
	      echo "$$out"; \
	      after=$$(ls "$$dir/testdata/fuzz/$$fz" 2>/dev/null | wc -l); \
	      if [ "$$after" = "$$before" ] && echo "$$out" | grep -q 'context deadline exceeded'; then \
	        echo "fuzz $$fz: the coordinator's own deadline, no failing input written: not a failure"; \
	      else exit 1; fi; \
	    fi; \
	  done; \
	done

# bench/ is a module of its own (the product never links the official SDK it is compared
# with): make test only vets it and checks its go.mod/go.sum are tidy; make bench runs it.
bench-check:
	@set -e; cd bench; $(GO) vet ./...; backup=$$(mktemp -d); trap 'cp "$$backup/go.mod" "$$backup/go.sum" .; rm -rf "$$backup"' EXIT; \
	cp go.mod go.sum "$$backup/"; \
	$(GO) mod tidy; \
	if ! cmp -s go.mod "$$backup/go.mod" || ! cmp -s go.sum "$$backup/go.sum"; then \
	  echo "go mod tidy changes bench/go.mod or bench/go.sum:"; diff -u "$$backup/go.mod" go.mod | head -40 || true; exit 1; fi

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

.PHONY: build deps deps-go deps-npm tools

build:
	@set -e; for fn in $(FUNCTIONS); do \
	  echo "build $$fn -> $(BUILD_DIR)/$$fn.zip"; \
	  $(call lambda-build,$$fn,$(BUILD_DIR)/$$fn/bootstrap); \
	  $(GO) run ./deploy/zipbootstrap $(BUILD_DIR)/$$fn.zip $(BUILD_DIR)/$$fn/bootstrap; \
	done

# build-<LogicalId>, one rule for every function of template.yaml: the logical id is the
# function's name in CamelCase plus "Function" (shared/catalog's LogicalName), so
# build-HuaweiCreatePoolFunction builds functions/huawei-create-pool.
build-%Function:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	@fn=$$(printf '%s' '$*' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]'); \
	test -f "functions/$$fn/main.go" || { echo "build-$*Function: no functions/$$fn/main.go"; exit 1; }; \
	echo "build $$fn -> $(ARTIFACTS_DIR)/bootstrap"; \
	$(call lambda-build,$$fn,$(ARTIFACTS_DIR)/bootstrap)

# The project's own dependencies: Go modules, and deploy/tools's npm packages (the offline
# validators cfnspec and asl-validator, and dynalite); a test whose tool is missing skips,
# saying why.
deps: deps-go deps-npm

deps-go:
	$(GO) mod download

deps-npm:
	@if command -v npm >/dev/null 2>&1; then \
	  cd deploy/tools && npm ci --no-audit --no-fund; \
	else echo "npm not found: the template and state machine checks will be skipped"; fi

# Tools from the system's package manager (shellcheck, for deploy/gcp/deploy.sh): .ci/run
# calls it on a fresh machine; `make test` never does.
tools:
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
