package dataversetest

import (
	"bufio"
	"context"
	"net/http"
	"time"
)

var timeNow = time.Now

// pageFault drops or stalls one page midway (Options.DropEvery, SlowEvery):
// the rows written so far reach the client first, so the client sees a
// truncated body or a stalled one, not a missing response.
type pageFault struct {
	drop, slow, done bool
	delay            time.Duration
	ctx              context.Context
	w                http.ResponseWriter
	bw               *bufio.Writer
}

func (s *Server) pageFault(r *http.Request, w http.ResponseWriter, bw *bufio.Writer) *pageFault {
	n := s.pages.Add(1)
	return &pageFault{
		drop:  s.opt.DropEvery > 0 && n%s.opt.DropEvery == 0,
		slow:  s.opt.SlowEvery > 0 && n%s.opt.SlowEvery == 0,
		delay: s.opt.SlowDelay, ctx: r.Context(), w: w, bw: bw,
	}
}

// midway fires once n rows of a page of size page have been written and n
// reaches half the page.
func (f *pageFault) midway(n, page int) {
	if f.done || (!f.drop && !f.slow) || n < max(1, page/2) {
		return
	}
	f.done = true
	_ = f.bw.Flush()
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	if f.slow {
		select {
		case <-time.After(f.delay):
		case <-f.ctx.Done():
		}
	}
	if f.drop {
		// net/http closes the connection without ending the chunked body.
		panic(http.ErrAbortHandler)
	}
}
