package snapshot

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestUnknownHostIsNotRetried(t *testing.T) {
	err := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "login.example.invalid", IsNotFound: true}}

	if retryableErr(context.Background(), err) {
		t.Error("a host that does not resolve was classed as retryable")
	}
	if !signInFailed(err) {
		t.Error("a host that does not resolve was not classed as a failed sign-in")
	}
	if signInFailed(errors.New("connection reset")) {
		t.Error("a transient error was classed as a failed sign-in")
	}
}

// A refused client secret must stop the run once, before any table, rather
// than fail each table after its own retries.
func TestRefusedSecretStopsTheRunOnce(t *testing.T) {
	var tokenCalls, apiCalls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/oauth2/") {
			tokenCalls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`))
			return
		}
		apiCalls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()

	_, err := Run(context.Background(), Config{
		OrgURL: srv.URL, AuthorityURL: srv.URL,
		Credentials: Credentials{TenantID: "t", ClientID: "c", ClientSecret: "wrong-secret"},
		Tables:      []string{"account", "contact", "incident"},
		OutDir:      t.TempDir(),
		Retry:       RetryPolicy{MaxAttempts: 3, BaseDelay: 1, MaxDelay: 1},
	})

	if err == nil || !strings.Contains(err.Error(), "sign in") {
		t.Fatalf("Run = %v, want a sign-in error", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error leaks the secret: %v", err)
	}
	if n := tokenCalls.Load(); n != 1 {
		t.Errorf("token endpoint asked %d times, want once", n)
	}
	if n := apiCalls.Load(); n != 0 {
		t.Errorf("%d Web API calls sent without a token", n)
	}
}
