package main

import (
	"context"
	"fmt"
	"io"

	"github.com/d2i/d2i/transform/mapping"
)

const mapExample = `  d2i map propose snap/2026-12-03 > mapping.yaml
  $EDITOR mapping.yaml
  d2i map confirm mapping.yaml
  d2i transform --snapshot snap/2026-12-03 --db staging.duckdb --mapping mapping.yaml

propose drafts the mapping from the snapshot's metadata and prints it; confirm
checks it and seals it in place with a hash of its values. transform refuses a
mapping whose seal no longer matches, so confirm again after every edit.`

// runMap dispatches 'd2i map propose SNAP' and 'd2i map confirm FILE'.
func runMap(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("map", "map propose SNAPSHOT_DIR | map confirm FILE", mapExample, stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want 'propose SNAPSHOT_DIR' or 'confirm FILE'")
	}
	sub, arg := fs.Arg(0), fs.Arg(1)
	switch sub {
	case "propose":
		return mapPropose(arg, stdout)
	case "confirm":
		return mapConfirm(arg, stdout)
	default:
		return usagef("unknown map command %q: want propose or confirm", sub)
	}
}

func mapPropose(snapDir string, stdout io.Writer) error {
	if err := requireFile(snapDir+"/manifest.json", "run 'd2i snapshot' first"); err != nil {
		return err
	}
	m, err := mapping.Propose(snapDir)
	if err != nil {
		return err
	}
	b, err := mapping.Marshal(m)
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}

func mapConfirm(path string, stdout io.Writer) error {
	if err := requireFile(path, "write one with 'd2i map propose SNAPSHOT_DIR > FILE'"); err != nil {
		return err
	}
	m, err := mapping.Confirm(path)
	if err != nil {
		return err
	}
	enabled := 0
	for _, a := range m.DataAttributes {
		if a.Enabled {
			enabled++
		}
	}
	fmt.Fprintf(stdout, "confirmed %s: %s (%d of %d data attributes enabled)\n",
		path, m.Confirmed, enabled, len(m.DataAttributes))
	return nil
}
