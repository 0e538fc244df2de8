package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The requests of file downloads. Each goes through the same RetryPolicy as
// pages, but answers are consumed as streams: handle reads the body, and a
// failure while reading it is retried like a dropped connection.

// exchange is one request of a download.
type exchange struct {
	method string
	url    string
	body   []byte            // JSON request body for POST
	header map[string]string // extra headers (Range)
	// handle reads a 2xx answer; before a retry, restart is called.
	handle  func(resp *http.Response) error
	restart func() error
}

// do sends ex until it succeeds or the policy gives up.
func (c *client) do(ctx context.Context, ex exchange, tag reqTag) error {
	for attempt := 1; ; attempt++ {
		f := c.tryStream(ctx, ex, tag)
		if f == nil {
			return nil
		}
		var le *localError
		if errors.As(f.err, &le) {
			return le
		}
		if !f.retry || attempt >= c.retry.MaxAttempts {
			return f.final(tag, attempt)
		}
		wait := c.retry.backoff(attempt)
		if f.hasRetryAfter {
			wait = f.retryAfter
		}
		c.log.Warn("dataverse request retried", "table", tag.table, "what", tag.what,
			"attempt", attempt, "wait_ms", wait.Milliseconds(), "reason", retryReason(f.err))
		if err := c.retry.sleep(ctx, wait); err != nil {
			return fmt.Errorf("dataverse %s %s: %w", tag.table, tag.what, err)
		}
		if ex.restart != nil {
			if err := ex.restart(); err != nil {
				return err
			}
		}
	}
}

func (c *client) tryStream(ctx context.Context, ex exchange, tag reqTag) *failure {
	actx, cancel := context.WithTimeout(ctx, c.retry.AttemptTimeout)
	defer cancel()
	var rb io.Reader
	if ex.body != nil {
		rb = bytes.NewReader(ex.body)
	}
	req, err := http.NewRequestWithContext(actx, ex.method, ex.url, rb)
	if err != nil {
		return &failure{err: fmt.Errorf("build request: %w", err)}
	}
	c.setHeaders(req, false)
	if ex.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range ex.header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &failure{err: redactURLError(err), retry: retryableErr(ctx, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		f := &failure{err: parseAPIError(resp.StatusCode, body, tag), retry: retryableStatus(resp.StatusCode)}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			f.retryAfter, f.hasRetryAfter = retryAfter(resp.Header)
		}
		return f
	}
	if err := ex.handle(resp); err != nil {
		var le *localError
		var ce base64.CorruptInputError
		switch {
		case errors.As(err, &le):
			return &failure{err: err}
		case errors.As(err, &ce):
			return &failure{err: fmt.Errorf("body is not Base64: %w", err)}
		case errors.Is(err, errBadAnswer):
			return &failure{err: err}
		}
		return &failure{err: fmt.Errorf("read body: %w", err), retry: ctx.Err() == nil}
	}
	return nil
}

// errBadAnswer marks an answer that will not improve on a retry.
var errBadAnswer = errors.New("unexpected answer")

// fetchValue streams GET <set>(<id>)/<col>/$value, Base64 text, decoding it
// into dst as it arrives.
func (c *client) fetchValue(ctx context.Context, set, id, col string, dst *blobTemp, tag reqTag) error {
	return c.do(ctx, exchange{
		method: http.MethodGet,
		url:    c.base + set + "(" + id + ")/" + col + "/$value",
		handle: func(resp *http.Response) error {
			if resp.StatusCode == http.StatusNoContent {
				return nil // an empty column: the empty file
			}
			_, err := io.Copy(dst, base64.NewDecoder(base64.StdEncoding, resp.Body))
			return err
		},
		restart: dst.reset,
	}, tag)
}

// fetchBlocks downloads a note or attachment with Initialize…BlocksDownload
// and DownloadBlock, block by block: memory holds one block at most.
func (c *client) fetchBlocks(ctx context.Context, action, table, pk, id string, blockSize int64, dst *blobTemp, tag reqTag) error {
	req, _ := json.Marshal(map[string]any{"Target": map[string]any{
		pk: id, "@odata.type": "Microsoft.Dynamics.CRM." + table}})
	var init struct {
		Token string `json:"FileContinuationToken"`
		Size  *int64 `json:"FileSizeInBytes"`
	}
	err := c.do(ctx, exchange{method: http.MethodPost, url: c.base + action, body: req,
		handle: func(resp *http.Response) error { return decodeAnswer(resp, &init) }}, tag)
	if err != nil {
		return err
	}
	if init.Token == "" || init.Size == nil || *init.Size < 0 {
		return fmt.Errorf("dataverse %s %s: %s answered without token or size", tag.table, tag.what, action)
	}
	// TODO: renew the continuation token when a long download outlives it.
	for off := int64(0); off < *init.Size; off += blockSize {
		n := min(blockSize, *init.Size-off)
		if err := c.downloadBlock(ctx, init.Token, off, n, dst, tag); err != nil {
			return err
		}
	}
	if dst.written() != *init.Size {
		return fmt.Errorf("dataverse %s %s: blocks gave %d bytes, file has %d", tag.table, tag.what, dst.written(), *init.Size)
	}
	return nil
}

func (c *client) downloadBlock(ctx context.Context, token string, off, n int64, dst *blobTemp, tag reqTag) error {
	req, _ := json.Marshal(map[string]any{"Offset": off, "BlockLength": n, "FileContinuationToken": token})
	btag := reqTag{tag.table, fmt.Sprintf("%s block at %d", tag.what, off)}
	return c.do(ctx, exchange{method: http.MethodPost, url: c.base + "DownloadBlock", body: req,
		handle: func(resp *http.Response) error {
			var blk struct {
				Data *string `json:"Data"`
			}
			if err := decodeAnswer(resp, &blk); err != nil {
				return err
			}
			if blk.Data == nil {
				return fmt.Errorf("%w: DownloadBlock answer has no Data", errBadAnswer)
			}
			raw, err := base64.StdEncoding.DecodeString(*blk.Data)
			if err != nil {
				return fmt.Errorf("block at %d is not Base64: %w", off, errBadAnswer)
			}
			if int64(len(raw)) != n {
				return fmt.Errorf("%w: block at %d has %d bytes, asked %d", errBadAnswer, off, len(raw), n)
			}
			_, err = dst.Write(raw)
			return err
		}}, btag)
}

// decodeAnswer reads a small JSON answer (an action's response).
func decodeAnswer(resp *http.Response, v any) error {
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return err // cut off: retried
		}
		return fmt.Errorf("%w: %v", errBadAnswer, err)
	}
	return nil
}

// fetchFileRanges reads a file column's raw bytes with Range requests of
// blockSize (spec §12); a server that ignores Range sends the whole file
// in one 200, which is streamed all the same.
func (c *client) fetchFileRanges(ctx context.Context, set, id, col string, blockSize int64, dst *blobTemp, tag reqTag) error {
	url := c.base + set + "(" + id + ")/" + col + "/$value"
	for {
		off, size := dst.written(), int64(-1)
		done := false
		err := c.do(ctx, exchange{method: http.MethodGet, url: url,
			header: map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", off, off+blockSize-1)},
			handle: func(resp *http.Response) error {
				size = headerInt(resp.Header, "x-ms-file-size")
				if resp.StatusCode != http.StatusPartialContent {
					if off > 0 {
						return fmt.Errorf("%w: HTTP %d to a range request", errBadAnswer, resp.StatusCode)
					}
					done = true
				}
				_, err := io.Copy(dst, resp.Body)
				return err
			},
			restart: func() error { return dst.truncateTo(off) }}, tag)
		if err != nil {
			return err
		}
		if done || size < 0 || dst.written() >= size || dst.written() == off {
			if size >= 0 && dst.written() != size {
				return fmt.Errorf("dataverse %s %s: read %d bytes, file has %d", tag.table, tag.what, dst.written(), size)
			}
			return nil
		}
	}
}

// fileSize asks a file column's size without its content: one byte of a
// range request carries x-ms-file-size.
func (c *client) fileSize(ctx context.Context, set, id, col string, tag reqTag) (int64, error) {
	size := int64(-1)
	err := c.do(ctx, exchange{method: http.MethodGet, url: c.base + set + "(" + id + ")/" + col + "/$value",
		header: map[string]string{"Range": "bytes=0-0"},
		handle: func(resp *http.Response) error {
			size = headerInt(resp.Header, "x-ms-file-size")
			if resp.StatusCode == http.StatusNoContent {
				size = 0
			}
			return nil // the body (one byte) is left unread
		}}, tag)
	if err == nil && size < 0 {
		err = fmt.Errorf("dataverse %s %s: no x-ms-file-size header", tag.table, tag.what)
	}
	return size, err
}

func headerInt(h http.Header, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// truncateTo drops what a failed range wrote past off. The hash cannot be
// rewound, so the kept prefix is hashed again from the file.
func (t *blobTemp) truncateTo(off int64) error {
	if err := t.bw.Flush(); err != nil {
		return &localError{err}
	}
	if err := t.f.Truncate(off); err != nil {
		return &localError{err}
	}
	hw := newHashingWriter(io.Discard)
	if _, err := io.Copy(hw, io.NewSectionReader(t.f, 0, off)); err != nil {
		return &localError{fmt.Errorf("rehash blob temp: %w", err)}
	}
	if _, err := t.f.Seek(off, io.SeekStart); err != nil {
		return &localError{err}
	}
	t.bw = bufio.NewWriterSize(t.f, 64<<10)
	hw.w = t.bw
	t.hw = hw
	return nil
}
