# duckdb_arrow turns on duckdb-go's Arrow interface; every build and test needs it.
GO      ?= go
TAGS    := duckdb_arrow
BIN     := bin/d2i
DEMO    ?= demo-out

export CGO_ENABLED := 1

.PHONY: build demo test bench lint clean

build:
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/d2i

demo: build
	$(BIN) demo --out $(DEMO)

test:
	$(GO) test -tags $(TAGS) -timeout 9m ./...

# The snapshot benchmarks (snapshot/snapshot_bench_test.go) take about half an
# hour on 2 cores and skip unless D2I_BENCH_SNAPSHOT=1, so the first line runs
# every other benchmark and the second runs them alone; BENCHMARKS.md has figures.
# The transform benchmark (transform/transform_bench_test.go, customer scale:
# 200k cases, 1M activities) likewise skips unless D2I_BENCH_TRANSFORM=1; its
# generated snapshot (280 MB, 6 minutes to write) is cached in $TMPDIR between runs.
# The replay benchmarks (replay/replay_bench_test.go) skip unless
# D2I_BENCH_REPLAY=1: budget use runs against the clock for 2 minutes.
BENCH_SNAPSHOT ?= SnapshotIncident(200k|1M)$$
BENCH_TRANSFORM ?= TransformCustomerScale$$

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./...
	D2I_BENCH_SNAPSHOT=1 $(GO) test -tags $(TAGS) -run '^$$' -bench '$(BENCH_SNAPSHOT)' \
		-benchtime 1x -timeout 60m ./snapshot/
	D2I_BENCH_TRANSFORM=1 $(GO) test -tags $(TAGS) -run '^$$' -bench '$(BENCH_TRANSFORM)' \
		-benchtime 1x -timeout 90m ./transform/
	D2I_BENCH_REPLAY=1 $(GO) test -tags $(TAGS) -run '^$$' -bench 'ClientOverhead' -benchtime 20000x ./replay/
	D2I_BENCH_REPLAY=1 $(GO) test -tags $(TAGS) -run '^$$' -bench 'BudgetUse' -benchtime 1x -timeout 10m ./replay/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...

clean:
	rm -rf bin $(DEMO)
