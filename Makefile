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

bench:
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...

clean:
	rm -rf bin $(DEMO)
