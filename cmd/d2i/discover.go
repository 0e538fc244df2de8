package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"github.com/d2i/d2i/replay"
	"github.com/d2i/d2i/report"
	"github.com/d2i/d2i/snapshot"
	"github.com/spf13/pflag"
)

type discoverOptions struct {
	orgURL       string
	authorityURL string
	snapshotDir  string
	out          string
	rate         int
	log          logOptions
}

func runDiscover(ctx context.Context, args []string, stdout io.Writer) error {
	var o discoverOptions
	fs := newFlagSet("discover", "discover (--org-url URL | --snapshot DIR) --out DIR [flags]",
		`  export D2I_DATAVERSE_TENANT_ID=... D2I_DATAVERSE_CLIENT_ID=...
  export D2I_DATAVERSE_CLIENT_SECRET_FILE=~/.config/d2i/dataverse-secret
  d2i discover --org-url https://contoso.crm.dynamics.com --out scope

  d2i discover --snapshot snap/2026-12-03 --out scope

Writes discovery.md and discovery.csv: signs of the licence tier, counts per
table, custom tables and columns, go / no-go per object and the Intercom API
time at --rate. Against the org it reads metadata, RetrieveTotalRecordCount and
the small configuration tables only (queues, SLAs, entitlements, categories,
processes), never cases or activities. Credentials come from the environment,
as for 'd2i snapshot'.`, stdout)
	fs.StringVar(&o.orgURL, "org-url", "", "Dataverse environment URL to survey, e.g. https://contoso.crm.dynamics.com")
	fs.StringVar(&o.authorityURL, "authority-url", "https://login.microsoftonline.com", "Entra ID authority that issues tokens")
	fs.StringVar(&o.snapshotDir, "snapshot", "", "survey this snapshot directory instead of the org")
	fs.StringVar(&o.out, "out", "", "directory for discovery.md and discovery.csv")
	fs.IntVar(&o.rate, "rate", replay.DefaultRatePerMinute, "Intercom requests per minute the API time assumes")
	// --url is accepted for --org-url: it is the shorter name people type.
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "url" {
			name = "org-url"
		}
		return pflag.NormalizedName(name)
	})
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	logger, err := o.log.logger()
	if err != nil {
		return err
	}

	scope, err := o.survey(ctx, logger)
	if err != nil {
		return err
	}
	doc := report.DiscoveryDoc(discoveryInput(scope, o.rate))
	mdPath, csvPath, err := doc.Write(o.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "discovery of %s written to %s and %s\n", scope.Source, mdPath, csvPath)
	return nil
}

func (o discoverOptions) check() error {
	switch {
	case o.orgURL == "" && o.snapshotDir == "":
		return usagef("want --org-url or --snapshot")
	case o.orgURL != "" && o.snapshotDir != "":
		return usagef("--org-url and --snapshot do not combine: survey the org or a snapshot of it")
	case o.out == "":
		return usagef("--out is required")
	case o.rate <= 0:
		return usagef("--rate must be positive, got %d", o.rate)
	}
	if o.snapshotDir != "" {
		return requireFile(filepath.Join(o.snapshotDir, "manifest.json"), "want a directory written by 'd2i snapshot'")
	}
	if u, err := url.Parse(o.orgURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usagef("--org-url %q: want the environment URL, e.g. https://contoso.crm.dynamics.com", o.orgURL)
	}
	return nil
}

func (o discoverOptions) survey(ctx context.Context, logger *slog.Logger) (*snapshot.Scope, error) {
	if o.snapshotDir != "" {
		return snapshot.ScopeFromSnapshot(ctx, o.snapshotDir)
	}
	creds, err := snapshot.CredentialsFromEnv()
	if err != nil {
		return nil, usagef("%v", err)
	}
	progress := newStepProgress(os.Stderr, "discover", logger)
	defer progress.finish()
	return snapshot.Discover(ctx, snapshot.ScopeConfig{
		OrgURL:       o.orgURL,
		AuthorityURL: o.authorityURL,
		Credentials:  creds,
		Logger:       logger,
		Progress:     func(done, total int) { progress.update("table definitions", done, total) },
	})
}

// discoveryInput hands the survey to the report as plain values: report
// does not import snapshot (DESIGN.md, Layout).
func discoveryInput(s *snapshot.Scope, rate int) report.DiscoveryInput {
	in := report.DiscoveryInput{
		Source: s.Source, FromSnapshot: s.FromSnapshot, Tables: map[string]report.DiscoveryTable{},
		Queues: report.DiscoveryQueues(s.Queues), Entitlements: report.DiscoveryEntitlements(s.Entitlements),
		CategoryDepth: s.CategoryDepth, RatePerMinute: rate,
	}
	for name, t := range s.Tables {
		in.Tables[name] = report.DiscoveryTable(t)
	}
	for _, sla := range s.SLAs {
		in.SLAs = append(in.SLAs, report.DiscoverySLA(sla))
	}
	for _, f := range s.Flows {
		in.Flows = append(in.Flows, report.DiscoveryFlows(f))
	}
	for _, c := range s.Routing {
		in.Routing = append(in.Routing, report.DiscoveryCheck(c))
	}
	return in
}
