package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCredentialsFromEnv(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte("from-file-secret\n"), 0o600)
	cases := []struct {
		name       string
		env        map[string]string
		wantSecret string
		wantErr    string
	}{
		{"plain", map[string]string{EnvTenantID: "t", EnvClientID: "c", EnvClientSecret: "plain-secret-9"}, "plain-secret-9", ""},
		{"file", map[string]string{EnvTenantID: "t", EnvClientID: "c", EnvClientSecretFile: secretFile}, "from-file-secret", ""},
		{"both", map[string]string{EnvTenantID: "t", EnvClientID: "c", EnvClientSecret: "plain-secret-9", EnvClientSecretFile: secretFile}, "", "only one"},
		{"missing", map[string]string{EnvTenantID: "t"}, "", EnvClientID},
		{"no file", map[string]string{EnvTenantID: "t", EnvClientID: "c", EnvClientSecretFile: secretFile + ".nope"}, "", EnvClientSecretFile},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{EnvTenantID, EnvClientID, EnvClientSecret, EnvClientSecretFile} {
				t.Setenv(k, c.env[k])
			}
			got, err := CredentialsFromEnv()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got.ClientSecret != c.wantSecret {
				t.Fatalf("got %v (secret ok=%v), %v", got, got.ClientSecret == c.wantSecret, err)
			}
			if strings.Contains(fmt.Sprintf("%v %+v %#v", got, got, got), c.wantSecret) {
				t.Error("secret printed by fmt")
			}
		})
	}
}

func TestOrgURLForms(t *testing.T) {
	cases := []struct{ in, base, scope string }{
		{"https://contoso.crm.dynamics.com", "https://contoso.crm.dynamics.com", "https://contoso.crm.dynamics.com/.default"},
		{"https://contoso.crm4.dynamics.com/", "https://contoso.crm4.dynamics.com", "https://contoso.crm4.dynamics.com/.default"},
		{"https://contoso.api.crm.dynamics.com/api/data/v9.2/", "https://contoso.api.crm.dynamics.com", "https://contoso.crm.dynamics.com/.default"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080/.default"},
	}
	for _, c := range cases {
		u, err := normalizeOrgURL(c.in)
		if err != nil || u.String() != c.base || scopeFor(u) != c.scope {
			t.Errorf("%s: base %v scope %s err %v", c.in, u, scopeFor(u), err)
		}
	}
	for _, bad := range []string{"", "contoso.crm.dynamics.com", "ftp://x", "https://user:pw@x.crm.dynamics.com"} {
		if _, err := normalizeOrgURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The secret reaches the token endpoint's form body and nowhere else: not
// a log line, an error, the manifest, a checkpoint or a URL.
func TestSecretNeverLeaks(t *testing.T) {
	f := newFakeDV(t)
	addIncident(f, 2)
	f.faults[1] = step{status: http.StatusTooManyRequests, headers: map[string]string{"Retry-After": "0"},
		body: `{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}`}
	dir := t.TempDir()
	var logs bytes.Buffer
	cfg := f.config(dir, "incident")
	cfg.Logger = captureLog(&logs)
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if f.tokenCalls != 1 {
		t.Errorf("token calls = %d, want 1 (cached)", f.tokenCalls)
	}

	// A wrong secret fails the run without echoing it.
	wrong := cfg
	wrong.OutDir = t.TempDir()
	wrong.Credentials.ClientSecret = "wrong-" + testSecret
	_, err := Run(context.Background(), wrong)
	if err == nil {
		t.Fatal("wrong secret accepted")
	}
	for _, s := range []string{testSecret, testToken} {
		if strings.Contains(err.Error(), s) || strings.Contains(logs.String(), s) {
			t.Errorf("%q leaked: err=%v", s, err)
		}
		for _, d := range []string{dir, wrong.OutDir} {
			filepath.Walk(d, func(p string, info os.FileInfo, _ error) error {
				if info != nil && !info.IsDir() {
					if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(s)) {
						t.Errorf("%q found in %s", s, p)
					}
				}
				return nil
			})
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	for n := 1; n < 12; n++ {
		d := p.backoff(n)
		if d < 50*time.Millisecond || d > time.Second {
			t.Errorf("backoff(%d) = %v outside [50ms, 1s]", n, d)
		}
	}
	h := http.Header{}
	h.Set("Retry-After", "7")
	if d, ok := retryAfter(h); !ok || d != 7*time.Second {
		t.Errorf("Retry-After 7 = %v %v", d, ok)
	}
	h.Set("Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
	if d, ok := retryAfter(h); !ok || d <= 0 || d > 3*time.Second {
		t.Errorf("Retry-After date = %v %v", d, ok)
	}
	for code, want := range map[int]bool{429: true, 500: true, 502: true, 503: true, 504: true, 501: false, 400: false, 401: false, 404: false} {
		if retryableStatus(code) != want {
			t.Errorf("retryableStatus(%d) != %v", code, want)
		}
	}
	if retryableErr(context.Background(), &url.Error{Op: "Get", Err: fmt.Errorf("x")}) {
		t.Error("plain error retried")
	}
}
