package dataversetest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// The page cache (Options.PageCache) keeps every list page the emulator
// renders in a file and answers the same request again from it. Rendering a
// page of annotated incidents costs more CPU than reading it, so on a
// 2-core machine a benchmark that wants the client's throughput, not the
// generator's, warms the cache first (one full read) and times a second
// read. A cached answer has the live answer's status, headers and body
// bytes: they were written by the live path in the first place.
//
// It assumes a static org: the key is the request (path, query, Prefer), not
// the data, so a read after Churn or a page with an injected fault never
// touches the cache. The last page of a change-tracking read keeps the delta
// token minted by the read that rendered it: with no change since, it names
// the same state of the table.

// cacheable says whether a list request may be answered from, or stored
// in, the cache.
func (s *Server) cacheable(q *query) bool {
	return s.opt.PageCache != "" && s.opt.PageChurn == (Churn{}) &&
		s.opt.ChurnAt == nil && s.opt.DropEvery == 0 && s.opt.SlowEvery == 0 && !s.churned()
}

// churned says whether any table changed since the server started.
func (s *Server) churned() bool {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	for _, tc := range s.changes.tables {
		if len(tc.events) > 0 {
			return true
		}
	}
	return false
}

func (s *Server) cachePath(r *http.Request) string {
	key := r.URL.RequestURI() + "\n" + strings.Join(r.Header.Values("Prefer"), "\n")
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.opt.PageCache, hex.EncodeToString(sum[:])+".json")
}

// serveCached answers from the cache; false means the page is not there.
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request) bool {
	f, err := os.Open(s.cachePath(r))
	if err != nil {
		return false
	}
	defer f.Close()
	_, _ = io.Copy(w, f)
	return true
}

// pageRecorder tees a page being rendered into a temporary file that
// becomes the cache entry once the page is complete.
type pageRecorder struct {
	f    *os.File
	path string
	err  error
}

func (s *Server) recordPage(r *http.Request) *pageRecorder {
	path := s.cachePath(r)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".page-*.tmp")
	if err != nil {
		return nil
	}
	return &pageRecorder{f: f, path: path}
}

func (p *pageRecorder) Write(b []byte) (int, error) {
	if p.err == nil {
		_, p.err = p.f.Write(b)
	}
	return len(b), nil // the client's answer never depends on the cache
}

// commit keeps the page when ok (it was rendered in full), else drops it.
func (p *pageRecorder) commit(ok bool) {
	name := p.f.Name()
	if err := p.f.Close(); err != nil || p.err != nil || !ok || os.Rename(name, p.path) != nil {
		os.Remove(name)
	}
}
