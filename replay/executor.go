package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// outcome is what one op achieved.
type outcome struct {
	status   int
	id       string
	existing bool // the object was there before this op (not created by us)
	before   json.RawMessage
}

// op is one mutating request and how to recover it after a crash.
type op struct {
	kind, sourceTable, sourceID, step string
	method, path                      string
	body                              any

	// prepare runs just before a fresh intent, e.g. to read a before-image.
	prepare func(ctx context.Context) (before json.RawMessage, err error)
	// send performs the request. uncertain is true when an earlier attempt of
	// this op may have taken effect.
	send func(ctx context.Context, uncertain bool) (outcome, error)
	// resolve looks the object up after an attempt whose outcome is unknown;
	// intentAt is when that attempt started, prior its intent (nil in-run).
	// found=false means the object does not exist and may be sent.
	resolve func(ctx context.Context, intentAt time.Time, prior *Record) (outcome, bool, error)
	// revise makes the n-th revision of the object an earlier run wrote as
	// id, for when the staged body has changed since (delta.go); nil for
	// ops that are written once.
	revise func(id string, n int) op
}

func (o *op) key() string { return o.kind + ":" + o.sourceID + ":" + o.step }

// executor owns the write log, the earlier runs' state and the summary.
type executor struct {
	c      *Client
	log    *logWriter
	prior  priorState
	dry    bool
	logger *slog.Logger

	mu  sync.Mutex
	sum *Summary
}

// maxUncertain bounds resends of one op after lost answers. Each resend
// follows a lookup that proved the earlier attempt did not land, so the
// bound only stops a server that never answers; a flaky one that loses a
// third of its answers still gets through, whatever the other workers do.
const maxUncertain = 8

// write is the one gate every mutating request passes through: it skips work
// done by an earlier run, resolves an earlier uncertain attempt by lookup,
// logs the intent, honours DryRun, sends and logs the outcome.
func (e *executor) write(ctx context.Context, o op) (outcome, error) {
	key := o.key()
	ctx = withCost(withOp(ctx, key), &opCost{})
	st := e.prior[key]
	if st != nil && st.undone {
		st = nil // a rollback took it back: do it afresh
	}
	if st != nil && st.done && !st.undoPending {
		// A failed revision is the revision's failure alone: the object
		// stands, and what depends on it still needs its id.
		if rev, ok := e.revision(o, st); ok {
			if _, err := e.write(ctx, rev); err != nil && !isOpFailure(err) {
				return outcome{}, err
			}
		}
		e.count(o.kind, resultSkipped)
		return outcome{status: st.status, id: st.intercomID, existing: st.existing, before: st.before}, nil
	}
	// An intent without outcome, or a rollback that may have deleted the
	// object, is settled by lookup.
	uncertain := st != nil && st.intent != nil
	if uncertain && o.resolve != nil && !e.dry {
		at, _ := time.Parse(time.RFC3339Nano, st.intent.Time)
		out, found, err := o.resolve(ctx, at, st.intent)
		if err != nil {
			return e.failed(ctx, o, key, 0, fmt.Errorf("resolve earlier attempt: %w", err))
		}
		if found {
			return e.finish(ctx, o, key, out)
		}
	}
	var before json.RawMessage
	if uncertain && st.intent.Before != nil {
		before = st.intent.Before
	} else if o.prepare != nil {
		var err error
		if before, err = o.prepare(ctx); err != nil {
			return e.failed(ctx, o, key, 0, err)
		}
	}
	return e.attempt(ctx, o, key, before, uncertain)
}

// attempt sends o, resolving lost answers by lookup before any resend.
func (e *executor) attempt(ctx context.Context, o op, key string, before json.RawMessage,
	uncertain bool) (outcome, error) {
	for try := 1; ; try++ {
		if err := e.intent(o, key, before); err != nil {
			return outcome{}, err
		}
		if e.dry {
			return e.finish(ctx, o, key, outcome{id: "dry-run:" + key, before: before})
		}
		at := time.Now()
		out, err := o.send(ctx, uncertain)
		out.before = before
		out.existing = out.existing || before != nil // an update of what was there
		var unc *UncertainError
		if err == nil || !errors.As(err, &unc) || o.resolve == nil || try >= maxUncertain {
			if err != nil {
				return e.failed(ctx, o, key, statusOf(err), err)
			}
			return e.finish(ctx, o, key, out)
		}
		e.logger.Warn("replay: outcome unknown, looking the object up", "op", key)
		uncertain = true
		res, found, rerr := o.resolve(ctx, at, nil)
		if rerr != nil {
			return e.failed(ctx, o, key, statusOf(err), fmt.Errorf("%v; lookup: %w", err, rerr))
		}
		if found {
			res.before = before
			return e.finish(ctx, o, key, res)
		}
	}
}

func (e *executor) intent(o op, key string, before json.RawMessage) error {
	return e.log.write(Record{Type: "intent", Op: key, Kind: o.kind, SourceTable: o.sourceTable,
		SourceID: o.sourceID, Step: o.step, Method: o.method, Path: o.path, BodySHA256: digest(o.body),
		DryRun: e.dry, Before: before})
}

func (e *executor) finish(ctx context.Context, o op, key string, out outcome) (outcome, error) {
	if out.status == 0 && !e.dry {
		out.status = http.StatusOK
	}
	r := Record{Type: "outcome", Op: key, Status: out.status, IntercomID: out.id,
		Before: out.before, Existing: out.existing, DryRun: e.dry}
	if err := e.log.write(withCostOf(ctx, r)); err != nil {
		return out, err
	}
	if out.existing {
		e.count(o.kind, resultExisting)
	} else {
		e.count(o.kind, resultCreated)
	}
	return out, nil
}

// failed logs a failed outcome; the op's error is returned as errOpFailed so
// callers can go on with other objects while the log write error is fatal.
func (e *executor) failed(ctx context.Context, o op, key string, status int, err error) (outcome, error) {
	r := Record{Type: "outcome", Op: key, Status: status, Error: err.Error(), DryRun: e.dry}
	if lerr := e.log.write(withCostOf(ctx, r)); lerr != nil {
		return outcome{}, lerr
	}
	e.fail(o.kind, key, err.Error())
	return outcome{}, &opFailed{key: key, err: err}
}

// withCostOf copies the op's cost, as far as it got, into its outcome record.
func withCostOf(ctx context.Context, r Record) Record {
	c := costOf(ctx)
	if c == nil {
		return r
	}
	r.Attempts, r.Lookups, r.Throttled = c.attempts.Load(), c.lookups.Load(), c.throttled.Load()
	r.WaitedMS = int64(time.Duration(c.waited.Load()).Round(time.Millisecond) / time.Millisecond)
	return r
}

// fail records a failure in the summary without a log record (used for ops
// that were never attempted because a dependency failed).
func (e *executor) fail(kind, key, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sum.counts(kind).Failed++
	e.sum.Failures = append(e.sum.Failures, Failure{Op: key, Reason: reason})
}

type result int

const (
	resultCreated result = iota
	resultExisting
	resultSkipped
)

func (e *executor) count(kind string, r result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.sum.counts(kind)
	switch r {
	case resultCreated:
		c.Created++
	case resultExisting:
		c.Existing++
	case resultSkipped:
		c.Skipped++
	}
}

// opFailed marks an error that is already recorded as a failed op.
type opFailed struct {
	key string
	err error
}

func (e *opFailed) Error() string { return e.key + ": " + e.err.Error() }
func (e *opFailed) Unwrap() error { return e.err }

// isOpFailure tells per-object failures (go on) from fatal ones (stop).
func isOpFailure(err error) bool {
	var f *opFailed
	return errors.As(err, &f)
}

func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// lagLogEvery is how often a long wait for the search index says it is
// still waiting (tests shorten it).
var lagLogEvery = time.Minute

// waitLag sleeps until intentAt+lag: search results are only trusted to be
// complete once the index has caught up with the attempt. The wait can be
// minutes, so it is announced and then reported every lagLogEvery.
func waitLag(ctx context.Context, logger *slog.Logger, opKey string, intentAt time.Time, lag time.Duration) error {
	d := time.Until(intentAt.Add(lag))
	if d <= 0 {
		return nil
	}
	resume := time.Now().Add(d)
	logger.Info("replay: waiting for Intercom search to catch up before trusting an empty lookup",
		"op", opKey, "reason", "an earlier attempt may have created the object and search lags writes",
		"wait", roundWait(d), "resume_at", resume.Format(time.RFC3339), "search_lag", lag)
	t := time.NewTimer(d)
	defer t.Stop()
	tick := time.NewTicker(lagLogEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			logger.Info("replay: search wait over, looking up again", "op", opKey)
			return nil
		case <-tick.C:
			logger.Info("replay: still waiting for Intercom search to catch up", "op", opKey,
				"remaining", roundWait(time.Until(resume)), "resume_at", resume.Format(time.RFC3339))
		}
	}
}

// roundWait keeps log durations readable: whole seconds, or milliseconds
// below one second.
func roundWait(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

type opCtxKey struct{}

// withOp tags ctx with the op key so that the client can name the op when
// it logs a retry.
func withOp(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, opCtxKey{}, key)
}

func opOf(ctx context.Context) string {
	s, _ := ctx.Value(opCtxKey{}).(string)
	return s
}
