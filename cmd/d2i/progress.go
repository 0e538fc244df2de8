package main

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// logEvery spaces progress log lines when no terminal shows a bar.
const logEvery = 5 * time.Second

// stepProgress shows long work with counts, rate and ETA: as a bar per kind
// of work (a table, an object kind) on a terminal, and otherwise as a log
// line every few seconds, so that CI logs and redirected output show it too.
type stepProgress struct {
	mu      sync.Mutex
	bar     io.Writer // nil when out is not a terminal
	logger  *slog.Logger
	verb    string
	kind    string
	total   int
	started time.Time
	logged  time.Time
	current *progressbar.ProgressBar
	now     func() time.Time
}

func newStepProgress(out io.Writer, verb string, logger *slog.Logger) *stepProgress {
	p := &stepProgress{logger: logger, verb: verb, now: time.Now}
	if isTerminal(out) {
		p.bar = out
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// update records done of total for kind; total -1 means unknown.
func (p *stepProgress) update(kind string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()

	now := p.now()
	if kind != p.kind || total != p.total {
		p.finishLocked()
		p.kind, p.total, p.started, p.logged = kind, total, now, now
		p.current = p.newBar()
	}
	if p.current != nil {
		_ = p.current.Set(done)
		return
	}
	if now.Sub(p.logged) >= logEvery {
		p.logged = now
		p.log(done, now)
	}
}

func (p *stepProgress) log(done int, now time.Time) {
	elapsed := now.Sub(p.started).Seconds()
	rate := float64(done) / max(elapsed, 1e-3)
	attrs := []any{"kind", p.kind, "done", done, "per_second", int(rate)}
	if p.total > 0 && rate > 0 {
		eta := time.Duration(float64(p.total-done) / rate * float64(time.Second))
		attrs = append(attrs, "total", p.total, "eta", eta.Round(time.Second).String())
	}
	p.logger.Info(p.verb+" progress", attrs...)
}

func (p *stepProgress) newBar() *progressbar.ProgressBar {
	if p.bar == nil {
		return nil
	}
	return progressbar.NewOptions(p.total,
		progressbar.OptionSetWriter(p.bar),
		progressbar.OptionSetDescription(p.verb+" "+p.kind),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(500*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *stepProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishLocked()
}

func (p *stepProgress) finishLocked() {
	if p.current != nil {
		_ = p.current.Finish()
		p.current = nil
	}
}
