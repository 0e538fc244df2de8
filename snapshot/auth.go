package snapshot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Credentials of the Entra application user the reader signs in as.
type Credentials struct {
	TenantID     string
	ClientID     string
	ClientSecret string
}

// String keeps the secret out of any %v or %+v that reaches a log.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{TenantID:%s ClientID:%s ClientSecret:[redacted]}", c.TenantID, c.ClientID)
}

// GoString does the same for %#v.
func (c Credentials) GoString() string { return c.String() }

// Environment variables CredentialsFromEnv reads.
const (
	EnvTenantID         = "D2I_DATAVERSE_TENANT_ID"
	EnvClientID         = "D2I_DATAVERSE_CLIENT_ID"
	EnvClientSecret     = "D2I_DATAVERSE_CLIENT_SECRET"
	EnvClientSecretFile = "D2I_DATAVERSE_CLIENT_SECRET_FILE"
)

// CredentialsFromEnv reads the tenant, client id and secret from the
// environment; the secret may instead sit in the file named by
// D2I_DATAVERSE_CLIENT_SECRET_FILE (its trailing newline is dropped).
func CredentialsFromEnv() (Credentials, error) {
	c := Credentials{
		TenantID:     strings.TrimSpace(os.Getenv(EnvTenantID)),
		ClientID:     strings.TrimSpace(os.Getenv(EnvClientID)),
		ClientSecret: os.Getenv(EnvClientSecret),
	}
	if path := os.Getenv(EnvClientSecretFile); path != "" {
		if c.ClientSecret != "" {
			return Credentials{}, fmt.Errorf("set only one of %s and %s", EnvClientSecret, EnvClientSecretFile)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			// The path is not secret; the error from ReadFile carries no content.
			return Credentials{}, fmt.Errorf("read %s: %w", EnvClientSecretFile, err)
		}
		c.ClientSecret = strings.TrimRight(string(b), "\r\n")
	}
	return c, c.validate()
}

func (c Credentials) validate() error {
	var missing []string
	if c.TenantID == "" {
		missing = append(missing, EnvTenantID)
	}
	if c.ClientID == "" {
		missing = append(missing, EnvClientID)
	}
	if c.ClientSecret == "" {
		missing = append(missing, EnvClientSecret+" (or "+EnvClientSecretFile+")")
	}
	if len(missing) > 0 {
		return fmt.Errorf("dataverse credentials missing: %s", strings.Join(missing, ", "))
	}
	if strings.ContainsAny(c.TenantID, "/?#") {
		return errors.New("dataverse tenant id must be a GUID or domain name")
	}
	return nil
}

// scopeFor returns <environment-url>/.default. The api. host form serves the
// same environment, whose resource URL has no api. label.
func scopeFor(org *url.URL) string {
	host := org.Host
	if strings.HasPrefix(host, "api.") {
		host = strings.TrimPrefix(host, "api.")
	} else if i := strings.Index(host, ".api."); i > 0 && strings.HasSuffix(host, ".dynamics.com") {
		host = host[:i] + host[i+len(".api"):]
	}
	return org.Scheme + "://" + host + "/.default"
}

// authClient wraps base so every request carries a bearer token from the
// client-credentials grant; tokens are cached and renewed before expiry.
func authClient(ctx context.Context, cfg Config, org *url.URL) (*http.Client, error) {
	if err := cfg.Credentials.validate(); err != nil {
		return nil, err
	}
	authority := strings.TrimRight(cfg.AuthorityURL, "/")
	cc := clientcredentials.Config{
		ClientID:     cfg.Credentials.ClientID,
		ClientSecret: cfg.Credentials.ClientSecret,
		TokenURL:     authority + "/" + url.PathEscape(cfg.Credentials.TenantID) + "/oauth2/v2.0/token",
		Scopes:       []string{scopeFor(org)},
		// Entra takes the secret in the form body (spec §1.2); never in a URL.
		AuthStyle: oauth2.AuthStyleInParams,
	}
	tokenCtx := context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, cfg.HTTPClient)
	base := cfg.HTTPClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{
		Transport: &oauth2.Transport{Source: cc.TokenSource(tokenCtx), Base: base},
		Timeout:   cfg.HTTPClient.Timeout,
	}, nil
}
