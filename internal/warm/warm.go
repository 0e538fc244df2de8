package warm

import (
	_ "github.com/apache/arrow-go/v18/parquet/pqarrow"
	_ "github.com/duckdb/duckdb-go/v2"
	_ "github.com/getkin/kin-openapi/openapi3filter"
	_ "github.com/goccy/go-yaml"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/microcosm-cc/bluemonday"
	_ "github.com/spf13/pflag"
	_ "golang.org/x/oauth2/clientcredentials"
	_ "golang.org/x/time/rate"
	_ "github.com/schollz/progressbar/v3"
)
