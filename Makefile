# lbfn: `make run` serves every function locally against the embedded emulator; `make test`
# is what CI runs. Targets are grouped by owner of the behaviour; keep each group together.

GO       ?= go
GOFLAGS  ?=
FUNCTIONS := jdcloud-create-backend huawei-create-pool huawei-create-lbaas-pool \
             huawei-create-master-slave-pool ctyun-create-policy
FUZZTIME ?= 10s

.PHONY: all test check fmt-check vet unit fuzz bench tidy-check deps

all: test

## ---- test: what CI runs -------------------------------------------------------------------

test: deps check unit fuzz

deps:
	$(GO) mod download

check: fmt-check vet tidy-check

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

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
