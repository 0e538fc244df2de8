package main

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// stepProgress shows one progress line per kind of work (a table, an object
// kind) with counts, rate and ETA, replacing the bar when the kind changes.
type stepProgress struct {
	mu    sync.Mutex
	out   io.Writer
	verb  string
	kind  string
	bar   *progressbar.ProgressBar
	total int
}

// newStepProgress draws on out only when it is a terminal: in CI and in
// redirected output the steps' own log lines carry the counts and rates.
func newStepProgress(out io.Writer, verb string) *stepProgress {
	if !isTerminal(out) {
		out = nil
	}
	return &stepProgress{out: out, verb: verb}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// update records done of total for kind; total -1 means unknown.
func (p *stepProgress) update(kind string, done, total int) {
	if p.out == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()

	if kind != p.kind || total != p.total {
		p.finishLocked()
		p.kind, p.total = kind, total
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetDescription(p.verb+" "+kind),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(500*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set(done)
}

func (p *stepProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishLocked()
}

func (p *stepProgress) finishLocked() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
