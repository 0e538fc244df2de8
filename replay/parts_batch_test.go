package replay

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"reflect"
	"testing"
)

// partReader must answer exactly as readParts, whatever order the
// conversations are asked in: in feed order (windows), shuffled (misses
// that load windows of their own) and asked twice.
func TestPartReaderMatchesReadParts(t *testing.T) {
	t.Run("small staging", func(t *testing.T) { checkPartReader(t, writeStage(t, stageRows), false) })
	t.Run("with files", func(t *testing.T) {
		db, _, _ := attachmentStage(t) // attachments_test.go
		checkPartReader(t, db, true)
	})
	t.Run("2,000-case org", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds the 2,000-case staging database")
		}
		db, _, _ := orgStaging(t)
		checkPartReader(t, db, false)
	})
}

// checkPartReader compares every conversation read in order, a few dozen
// shuffled (each a window query of its own) and a few read twice; withFiles
// requires some parts to carry files, so that their path is compared too.
func checkPartReader(t *testing.T, path string, withFiles bool) {
	db, err := openStage(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	var ids []string
	if err := eachConversation(ctx, db, func(c stageConversation) error {
		ids = append(ids, c.SourceID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Two windows and a bit cross every kind of window boundary; comparing
	// more only costs a readParts query each.
	ids = ids[:min(len(ids), 2*partsWindow+7)]
	want := map[string][]stagePart{}
	parts, files := 0, 0
	for _, id := range ids {
		p, err := readParts(ctx, db, id)
		if err != nil {
			t.Fatal(err)
		}
		want[id], parts = p, parts+len(p)
		for _, sp := range p {
			files += len(sp.Attachments)
		}
	}
	if len(ids) == 0 || parts == 0 || (withFiles && files == 0) {
		t.Fatalf("staging has %d conversations with %d parts and %d files: too little to compare",
			len(ids), parts, files)
	}
	shuffled := append([]string(nil), ids...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	shuffled = shuffled[:min(len(shuffled), 40)]
	for name, order := range map[string][]string{"in order": ids, "shuffled": shuffled,
		"twice": append(append([]string(nil), ids[:3]...), ids[:3]...)} {
		comparePartReader(ctx, t, db, name, order, want)
	}
	if p, err := newPartReader(db).read(ctx, "not-staged"); err != nil || len(p) != 0 {
		t.Errorf("unknown conversation: %v %v, want no parts", p, err)
	}
}

func comparePartReader(ctx context.Context, t *testing.T, db *sql.DB, name string, order []string,
	want map[string][]stagePart) {
	pr := newPartReader(db)
	for _, id := range order {
		got, err := pr.read(ctx, id)
		if err != nil {
			t.Fatalf("%s: %s: %v", name, id, err)
		}
		if !reflect.DeepEqual(got, want[id]) {
			t.Fatalf("%s: conversation %s:\n got %+v\nwant %+v", name, id, got, want[id])
		}
	}
}
