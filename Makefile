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
BENCH_SNAPSHOT ?= SnapshotIncident(200k|1M)$$

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./...
	D2I_BENCH_SNAPSHOT=1 $(GO) test -tags $(TAGS) -run '^$$' -bench '$(BENCH_SNAPSHOT)' \
		-benchtime 1x -timeout 60m ./snapshot/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...

clean:
	rm -rf bin $(DEMO)
