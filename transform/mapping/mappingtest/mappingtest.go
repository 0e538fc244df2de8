// Package mappingtest makes confirmed mapping files for tests in other
// packages, as 'd2i map propose', an edit and 'd2i map confirm' would.
package mappingtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/d2i/d2i/transform/mapping"
)

// Confirmed writes the proposal for snapDir, changed by edit when not nil,
// to a temporary file, seals it and returns its path.
func Confirmed(t testing.TB, snapDir string, edit func(*mapping.Mapping)) string {
	t.Helper()
	m, err := mapping.Propose(snapDir)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	b, err := mapping.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mapping.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mapping.Confirm(path); err != nil {
		t.Fatal(err)
	}
	return path
}
