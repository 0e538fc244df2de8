package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/d2i/d2i/transform"
	"github.com/d2i/d2i/transform/mapping"
)

type transformOptions struct {
	snapshot string
	db       string
	mapping  string
	log      logOptions
}

func runTransform(ctx context.Context, args []string, stdout io.Writer) error {
	var o transformOptions
	fs := newFlagSet("transform", "transform --snapshot DIR --db FILE [flags]",
		`  d2i transform --snapshot snap/2026-12-03 --db staging.duckdb

The snapshot is only read, so a transform can be rerun after every mapping fix;
each run rebuilds the stage, rejects and reports schemas from scratch.`, stdout)
	fs.StringVar(&o.snapshot, "snapshot", "", "snapshot directory written by 'd2i snapshot'")
	fs.StringVar(&o.db, "db", "", "staging DuckDB file to (re)build")
	fs.StringVar(&o.mapping, "mapping", "",
		"confirmed mapping file ('d2i map'); its hash is recorded for replay")
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.snapshot == "" || o.db == "" {
		return usagef("--snapshot and --db are required")
	}
	if o.mapping != "" {
		if err := requireFile(o.mapping, "write one with 'd2i map propose'"); err != nil {
			return err
		}
	}
	logger, err := o.log.logger()
	if err != nil {
		return err
	}

	res, err := transform.Run(ctx, transform.Config{SnapshotDir: o.snapshot, DBPath: o.db, Logger: logger,
		MappingPath: o.mapping})
	if errors.Is(err, mapping.ErrUnconfirmed) || errors.Is(err, mapping.ErrChanged) {
		return usagef("%v", err) // nothing was built: the mapping needs confirming
	}
	if err != nil {
		return err
	}

	printReconciliation(stdout, res.Reconciliation)
	for _, note := range res.Notes {
		fmt.Fprintf(stdout, "note: %s\n", note)
	}
	return nil
}

func printReconciliation(w io.Writer, rows []transform.Reconciliation) {
	// The name columns are as wide as their longest value, so that long
	// names (knowledgearticlescategories) keep their row in line.
	objW, srcW := len("object"), len("source")
	for _, r := range rows {
		objW, srcW = max(objW, len(r.Object)), max(srcW, len(r.SourceTable))
	}
	fmt.Fprintf(w, "%-*s %-*s %9s %9s %8s %8s %8s  %s\n", objW, "object", srcW, "source",
		"snapshot", "staged", "merged", "rejected", "out", "conserved")
	for _, r := range rows {
		mark := "yes"
		if !r.Conserved {
			mark = "NO"
		}
		fmt.Fprintf(w, "%-*s %-*s %9d %9d %8d %8d %8d  %s\n", objW, r.Object, srcW, r.SourceTable,
			r.SnapshotRows, r.Staged, r.Merged, r.Rejected, r.OutOfScope, mark)
	}
}
