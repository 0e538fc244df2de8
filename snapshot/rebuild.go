package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// RebuildConfig says where the saved pages of an earlier snapshot are and
// where to write the snapshot rebuilt from them.
type RebuildConfig struct {
	// PagesDir holds <table>/NNNNN.json.zst as a snapshot saves them; pages
	// saved by hand as plain .json are read too. Files are taken in the
	// order of the number in their name.
	PagesDir string
	// MetadataDir holds <table>.json (the EntityDefinitions answer) and
	// optionally <table>/<Cast>.json, as a snapshot saves them.
	MetadataDir string
	// OutDir is the snapshot to write; it must not contain PagesDir or
	// MetadataDir. Rerunning into the same OutDir resumes like Run does.
	OutDir string
	// Tables defaults to every directory under PagesDir.
	Tables      []string
	Logger      *slog.Logger
	Progress    func(table string, rows, pages int)
	ToolVersion string
}

// Rebuild writes a snapshot (Parquet parts, pages, metadata, checkpoints,
// manifest) from saved raw pages and metadata, without any request to the
// source. Decoding is the same as Run's, so a rebuild from a snapshot's own
// pages yields the same rows. The source count is that of page 0's
// @odata.count when exact, else -1: RetrieveTotalRecordCount is not asked.
func Rebuild(ctx context.Context, rc RebuildConfig) (*Manifest, error) {
	if rc.PagesDir == "" || rc.MetadataDir == "" {
		return nil, errors.New("snapshot rebuild: PagesDir and MetadataDir are required")
	}
	if err := checkOutside(rc.OutDir, rc.PagesDir, rc.MetadataDir); err != nil {
		return nil, err
	}
	tables := rc.Tables
	if len(tables) == 0 {
		var err error
		if tables, err = savedTables(rc.PagesDir); err != nil {
			return nil, err
		}
	}
	cfg, err := Config{
		OutDir: rc.OutDir, Tables: tables, Logger: rc.Logger,
		Progress: rc.Progress, ToolVersion: rc.ToolVersion,
	}.withCommonDefaults()
	if err != nil {
		return nil, err
	}
	if err := ensureLayout(cfg.OutDir); err != nil {
		return nil, err
	}
	src := &savedPages{pagesDir: rc.PagesDir, metaDir: rc.MetadataDir, files: map[string][]string{}}
	m, failed := runTables(ctx, cfg, src, "")
	m.OrgURL = src.orgURL
	return finishManifest(ctx, cfg, m, failed)
}

// checkOutside refuses an OutDir that holds the input: resuming clears
// uncommitted pages there and would delete the very files being read.
func checkOutside(out string, inputs ...string) error {
	if out == "" {
		return errors.New("snapshot: OutDir is required")
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("snapshot rebuild: %w", err)
	}
	for _, in := range inputs {
		absIn, err := filepath.Abs(in)
		if err != nil {
			return fmt.Errorf("snapshot rebuild: %w", err)
		}
		rel, err := filepath.Rel(absOut, absIn)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("snapshot rebuild: %s lies inside OutDir %s; write the rebuild elsewhere", in, out)
		}
	}
	return nil
}

// savedTables lists the table directories under pagesDir.
func savedTables(pagesDir string) ([]string, error) {
	entries, err := os.ReadDir(pagesDir)
	if err != nil {
		return nil, fmt.Errorf("snapshot rebuild: list pages: %w", err)
	}
	var tables []string
	for _, e := range entries {
		if e.IsDir() && validLogicalName(e.Name()) {
			tables = append(tables, e.Name())
		}
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("snapshot rebuild: no table directories in %s", pagesDir)
	}
	return tables, nil
}

// savedPages is the source of a rebuild: files, read one page at a time.
type savedPages struct {
	pagesDir, metaDir string
	files             map[string][]string // table → page files, in order
	orgURL            string              // from the first page's @odata.context
}

func (s *savedPages) tableMeta(_ context.Context, root, table string) (*tableMeta, error) {
	m := &tableMeta{labels: map[string]map[int32]string{}}
	body, err := os.ReadFile(filepath.Join(s.metaDir, table+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		if _, perr := os.Stat(filepath.Join(s.pagesDir, table)); errors.Is(perr, fs.ErrNotExist) {
			return nil, errAbsent // neither saved: the earlier snapshot found no such table
		}
		return nil, fmt.Errorf("table %s: pages saved but no metadata/%s.json", table, table)
	}
	if err != nil {
		return nil, fmt.Errorf("table %s: read metadata: %w", table, err)
	}
	if err := m.applyEntityDef(table, body); err != nil {
		return nil, err
	}
	if err := m.save(root, entityDefRel(table), body); err != nil {
		return nil, err
	}
	for _, cast := range append([]string{dateTimeCast}, optionCasts...) {
		if err := s.applyCast(root, table, cast, m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// applyCast reads one saved cast answer, if the earlier snapshot had it.
func (s *savedPages) applyCast(root, table, cast string, m *tableMeta) error {
	body, err := os.ReadFile(filepath.Join(s.metaDir, table, cast+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("table %s: read metadata %s: %w", table, cast, err)
	}
	if cast == dateTimeCast {
		err = m.applyDateTimeBehavior(table, body)
	} else {
		err = m.applyOptionLabels(table, cast, body)
	}
	if err != nil {
		return err
	}
	return m.save(root, castRel(table, cast), body)
}

// firstLink has no request to make; pages are found by number.
func (s *savedPages) firstLink(string, *tableSchema) (string, error) { return "", nil }

func (s *savedPages) totalRecordCount(context.Context, string) int64 { return -1 }

func (s *savedPages) page(_ context.Context, table, _ string, n int) ([]byte, error) {
	files, err := s.list(table)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("table %s: no saved pages in %s", table, filepath.Join(s.pagesDir, table))
	}
	if n >= len(files) {
		return nil, fmt.Errorf("table %s page %d: only %d page(s) saved and the last has a next link; "+
			"the earlier snapshot stopped before the end of the table", table, n, len(files))
	}
	body, err := readSavedPage(files[n])
	if err != nil {
		return nil, fmt.Errorf("table %s page %d (%s): %w", table, n, filepath.Base(files[n]), err)
	}
	if s.orgURL == "" {
		s.orgURL = orgFromContext(body)
	}
	return body, nil
}

// list finds a table's page files once and orders them by number.
func (s *savedPages) list(table string) ([]string, error) {
	if files, ok := s.files[table]; ok {
		return files, nil
	}
	dir := filepath.Join(s.pagesDir, table)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("table %s: list saved pages: %w", table, err)
	}
	byNum := map[int]string{}
	var nums []int
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") ||
			!(strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json.zst")) {
			continue
		}
		n, ok := pageNumber(name)
		if !ok {
			return nil, fmt.Errorf("table %s: saved page %s has no page number in its name", table, name)
		}
		if other, dup := byNum[n]; dup {
			return nil, fmt.Errorf("table %s: saved pages %s and %s have the same number", table, other, name)
		}
		byNum[n] = name
		nums = append(nums, n)
	}
	sort.Ints(nums)
	files := make([]string, len(nums))
	for i, n := range nums {
		files[i] = filepath.Join(dir, byNum[n])
	}
	s.files[table] = files
	return files, nil
}

// pageNumber reads the digits of a name: 00003.json.zst, page-3.json, 3.json.
func pageNumber(name string) (int, bool) {
	stem, _, _ := strings.Cut(name, ".")
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, stem)
	if digits == "" || len(digits) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

// zstdDecoder is shared: DecodeAll is safe for concurrent use.
var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))

func readSavedPage(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".zst") {
		if b, err = zstdDecoder.DecodeAll(b, nil); err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
	}
	// A page saved from a browser or editor may start with a byte-order mark.
	return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), nil
}

// orgFromContext reads the org from @odata.context when it is the body's
// first property, as Dataverse writes it; "" otherwise.
func orgFromContext(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	if tok, err := dec.Token(); err != nil || tok != "@odata.context" {
		return ""
	}
	var ctxURL string
	if dec.Decode(&ctxURL) != nil {
		return ""
	}
	u, err := url.Parse(ctxURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
