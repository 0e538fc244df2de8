package replay

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/d2i/d2i/replay/intercomtest"
)

// An attribute create whose answer is lost after it committed is ours: the
// run must log it as created, not as found, so that rollback archives it.
// (The client used to resend such a create itself and read the resend's
// 400 name clash as an attribute that was there before.)
func TestLostAttributeCreateIsRolledBack(t *testing.T) {
	db := writeStage(t, stageRows)
	em := intercomtest.New(emulatorOptions())
	expectNoNotifications(t, em)
	var mu sync.Mutex
	lost := map[string]bool{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		create := r.Method == http.MethodPost &&
			(r.URL.Path == "/data_attributes" || r.URL.Path == "/conversations/attributes")
		mu.Lock()
		lose := create && !lost[r.URL.Path]
		if lose {
			lost[r.URL.Path] = true
		}
		mu.Unlock()
		if !lose {
			em.Handler().ServeHTTP(w, r)
			return
		}
		em.Handler().ServeHTTP(httptest.NewRecorder(), r) // committed, answer dropped
		panic(http.ErrAbortHandler)
	}))
	defer hs.Close()
	logDir := t.TempDir()
	sum, err := Run(t.Context(), testConfig(t, hs.URL, db, logDir))
	if err != nil || len(sum.Failures) > 0 {
		t.Fatalf("replay: %v %+v", err, sum)
	}
	if len(lost) != 2 {
		t.Fatalf("lost the answers of %v, want both attribute endpoints", lost)
	}
	if got := sum.Kinds[KindDataAttribute]; got.Existing != 0 {
		t.Errorf("attributes %+v: replay created them all, none was there before", *got)
	}
	rollbackAll(t, hs.URL, logDir)
	// The emulator starts without attributes: replay created every one.
	for _, a := range em.DataAttributes() {
		if !a.Archived {
			t.Errorf("attribute %s.%s created by replay is not archived", a.Model, a.Name)
		}
	}
}
