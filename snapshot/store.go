package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// joinRel joins a slash-separated path relative to the snapshot root.
func joinRel(root, rel string) string {
	if rel == "" {
		return root
	}
	return filepath.Join(root, filepath.FromSlash(rel))
}

// hashingWriter counts and hashes what passes through it, so a file's
// manifest entry needs no second read.
type hashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func newHashingWriter(w io.Writer) *hashingWriter {
	return &hashingWriter{w: w, h: sha256.New()}
}

func (hw *hashingWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

func (hw *hashingWriter) sum() string { return hex.EncodeToString(hw.h.Sum(nil)) }

// writeAtomic writes rel under root through fill, into a temporary file that
// is synced and renamed into place, so a crash leaves the old file or the new
// one, never half of one. It returns the manifest entry (rows left 0).
func writeAtomic(root, rel string, fill func(w io.Writer) error) (FileEntry, error) {
	af, err := createAtomic(root, rel)
	if err != nil {
		return FileEntry{}, err
	}
	if err := fill(af.w); err != nil {
		af.abort()
		return FileEntry{}, fmt.Errorf("write %s: %w", rel, err)
	}
	return af.commit()
}

// atomicFile is writeAtomic in two halves, for a file filled by one step
// and put in place by a later one (a page's part, committed after the next
// page started).
type atomicFile struct {
	f          *os.File
	rel, final string
	w          *hashingWriter
}

// createAtomic opens rel's temporary file.
func createAtomic(root, rel string) (*atomicFile, error) {
	final := joinRel(root, rel)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", rel, err)
	}
	f, err := os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", rel, err)
	}
	af := &atomicFile{f: f, rel: rel, final: final, w: newHashingWriter(f)}
	if err := f.Chmod(0o600); err != nil {
		af.abort()
		return nil, fmt.Errorf("chmod %s: %w", rel, err)
	}
	return af, nil
}

// abort drops the temporary file.
func (af *atomicFile) abort() {
	af.f.Close()
	os.Remove(af.f.Name())
}

// commit syncs the file and renames it into place.
func (af *atomicFile) commit() (FileEntry, error) {
	if err := af.f.Sync(); err != nil {
		af.abort()
		return FileEntry{}, fmt.Errorf("sync %s: %w", af.rel, err)
	}
	if err := af.f.Close(); err != nil {
		os.Remove(af.f.Name())
		return FileEntry{}, fmt.Errorf("close %s: %w", af.rel, err)
	}
	if err := os.Rename(af.f.Name(), af.final); err != nil {
		os.Remove(af.f.Name())
		return FileEntry{}, fmt.Errorf("rename %s: %w", af.rel, err)
	}
	syncDir(filepath.Dir(af.final))
	return FileEntry{Path: af.rel, Bytes: af.w.n, SHA256: af.w.sum()}, nil
}

// syncDir makes a rename durable; failure only weakens crash safety, so it
// is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func writeBytesAtomic(root, rel string, b []byte) (FileEntry, error) {
	return writeAtomic(root, rel, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

func writeJSONAtomic(root, rel string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", rel, err)
	}
	_, err = writeBytesAtomic(root, rel, append(b, '\n'))
	return err
}

// removeStaleTemps deletes temporaries a crash left in dir.
func removeStaleTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".tmp") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// clearStaleTemps deletes the temporaries a killed run left wherever the
// snapshot writes atomically: they are never part of a snapshot.
func clearStaleTemps(root string, tables []string) {
	for _, dir := range []string{"", "metadata", "checkpoints"} {
		removeStaleTemps(joinRel(root, dir))
	}
	for _, t := range tables {
		for _, dir := range []string{"metadata/", "tables/", "pages/"} {
			removeStaleTemps(joinRel(root, dir+t))
		}
	}
}

// removeUncommitted deletes numbered files (part-NNNNN.parquet,
// NNNNN.json.zst) above lastPage: they belong to a page whose checkpoint
// never landed, and would otherwise be counted twice by a glob.
func removeUncommitted(dir string, lastPage int) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		n, ok := fileNumber(e.Name())
		if ok && n > lastPage {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// fileNumber reads NNNNN from part-NNNNN.parquet or NNNNN.json.zst.
func fileNumber(name string) (int, bool) {
	name = strings.TrimPrefix(name, "part-")
	digits, _, ok := strings.Cut(name, ".")
	if !ok || len(digits) != 5 {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

// checkpoint is checkpoints/<table>.json: what of a table is safely on disk.
type checkpoint struct {
	Table     string `json:"table"`
	EntitySet string `json:"entity_set"`
	// SchemaHash ties the committed parts to the columns they were written
	// with; a resume under different metadata would mix schemas.
	SchemaHash string `json:"schema_hash"`
	// LastPage is the number of the last committed page (0-based), -1 if none.
	LastPage int `json:"last_page"`
	// NextLink is the @odata.nextLink that follows LastPage, verbatim.
	NextLink string `json:"next_link"`
	// DeltaLink is the last page's @odata.deltaLink on a tracked table.
	DeltaLink   string `json:"delta_link,omitempty"`
	Rows        int64  `json:"rows"`
	SourceCount int64  `json:"source_count"`
	// CountNote explains a source count that differs from Rows.
	CountNote string      `json:"count_note,omitempty"`
	Complete  bool        `json:"complete"`
	Files     []FileEntry `json:"files"`
}

func checkpointRel(table string) string { return "checkpoints/" + table + ".json" }

// loadCheckpoint returns nil when the table has none.
func loadCheckpoint(root, table string) (*checkpoint, error) {
	b, err := os.ReadFile(joinRel(root, checkpointRel(table)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", table, err)
	}
	var cp checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("decode checkpoint %s: %w", table, err)
	}
	if cp.Table != table {
		return nil, fmt.Errorf("checkpoint %s names table %q", table, cp.Table)
	}
	return &cp, nil
}
