package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/d2i/d2i/snapshot"
)

// demoTables are what the demo snapshots: the tables the migration of
// cases, contacts, companies and their activities reads, the knowledge base
// (help-center collections and articles), and the small
// configuration tables the admin inventories read (flows, SLAs,
// entitlements, queue members), and notes and e-mail attachments, so that
// the demo sends files (a dozen on one e-mail, one over the 10 MB cap, one
// with an unsafe name).
var demoTables = []string{"account", "contact", "incident", "email", "activityparty", "systemuser", "queue",
	"queueitem", "phonecall", "task", "appointment", "queuemembership", "workflow", "sla", "slaitem",
	"slakpiinstance", "entitlement", "entitlementchannel", "languagelocale", "category", "knowledgearticle",
	"knowledgearticlescategories", "annotation", "activitymimeattachment"}

type snapshotOptions struct {
	orgURL         string
	authorityURL   string
	out            string
	tables         []string
	concurrency    int
	pageSize       int
	fromPages      string
	withRecordings bool
	deltaFrom      string
	log            logOptions
}

func runSnapshot(ctx context.Context, args []string, stdout io.Writer) error {
	var o snapshotOptions
	fs := newFlagSet("snapshot", "snapshot --org-url URL --out DIR [flags]",
		`  export D2I_DATAVERSE_TENANT_ID=... D2I_DATAVERSE_CLIENT_ID=...
  export D2I_DATAVERSE_CLIENT_SECRET_FILE=~/.config/d2i/dataverse-secret
  d2i snapshot --org-url https://contoso.crm.dynamics.com --out snap/2026-12-03

Credentials come from the environment only: D2I_DATAVERSE_TENANT_ID,
D2I_DATAVERSE_CLIENT_ID and D2I_DATAVERSE_CLIENT_SECRET (or ..._SECRET_FILE).
Rerunning into the same --out resumes each table from its last committed page.

--from-pages rebuilds a snapshot offline from an earlier one's saved pages:
  d2i snapshot --from-pages snap/2026-12-03 --out snap/rebuilt
DIR is an earlier snapshot (its pages/ and metadata/ are read) or a pages
directory whose metadata/ sits beside it; pages saved by hand as .json work
too. Nothing is fetched and no credentials are read.`, stdout)
	fs.StringVar(&o.orgURL, "org-url", "", "Dataverse environment URL, e.g. https://contoso.crm.dynamics.com")
	fs.StringVar(&o.authorityURL, "authority-url", "https://login.microsoftonline.com", "Entra ID authority that issues tokens")
	fs.StringVar(&o.out, "out", "", "snapshot directory to write (created, or resumed when it exists)")
	fs.StringSliceVar(&o.tables, "tables", nil, "logical names of the tables to export (default: every table the migration needs plus the org's custom tables)")
	fs.IntVar(&o.concurrency, "concurrency", 0, "read at most this many tables at once (default: the server's x-ms-dop-hint)")
	fs.IntVar(&o.pageSize, "page-size", 5000, "rows per page to ask for (odata.maxpagesize, at most 5000)")
	fs.StringVar(&o.fromPages, "from-pages", "", "rebuild offline from an earlier snapshot's saved pages in DIR instead of reading the org")
	fs.BoolVar(&o.withRecordings, "with-recordings", false, "download voice recording files (msdyn_ocrecording); without it they are listed with size only")
	fs.StringVar(&o.deltaFrom, "delta-from", "", "write only what changed since the complete snapshot SNAP: changed rows and tombstones (default --tables: SNAP's)")
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.fromPages != "" && o.deltaFrom != "" {
		return usagef("--from-pages and --delta-from do not combine")
	}
	if o.fromPages != "" {
		if o.out == "" {
			return usagef("--out is required")
		}
		if o.orgURL != "" {
			return usagef("--from-pages reads no org; drop --org-url")
		}
		if !fs.Changed("tables") {
			o.tables = nil // every table that has saved pages
		}
		return rebuildSnapshot(ctx, o, stdout)
	}
	if o.orgURL == "" || o.out == "" {
		return usagef("--org-url and --out are required")
	}
	logger, err := o.log.logger()
	if err != nil {
		return err
	}

	creds, err := snapshot.CredentialsFromEnv()
	if err != nil {
		return usagef("%v", err)
	}
	progress := newStepProgress(os.Stderr, "snapshot", logger)
	manifest, err := snapshot.Run(ctx, snapshot.Config{
		OrgURL:         o.orgURL,
		WithRecordings: o.withRecordings,
		AuthorityURL:   o.authorityURL,
		Credentials:    creds,
		Tables:         o.tables,
		Concurrency:    o.concurrency,
		OutDir:         o.out,
		DeltaFrom:      o.deltaFrom,
		MaxPageSize:    o.pageSize,
		Logger:         logger,
		Progress:       func(table string, rows, _ int) { progress.update(table, rows, -1) },
	})
	progress.finish()
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "snapshot %s: %s\n", o.out, strings.Join(manifestSummary(manifest), ", "))
	return checkAbsent(manifest, o.tables)
}

// checkAbsent lets a table of the default set be missing (not every org has
// Omnichannel), but not a table the user named, nor every table at once: both
// mean a typo or a URL that is not a Dataverse environment.
func checkAbsent(m *snapshot.Manifest, named []string) error {
	var absent []string
	for _, name := range named {
		if t, ok := m.Tables[name]; ok && t.Status == snapshot.StatusAbsent {
			absent = append(absent, name)
		}
	}
	if len(absent) > 0 {
		return fmt.Errorf("tables not found in the org: %s (check the names in --tables)", strings.Join(absent, ", "))
	}

	for _, t := range m.Tables {
		if t.Status != snapshot.StatusAbsent {
			return nil
		}
	}
	return fmt.Errorf("the org has none of the %d tables asked for: is --org-url a Dataverse environment?", len(m.Tables))
}

// rebuildSnapshot is `snapshot --from-pages`: no org, no credentials.
func rebuildSnapshot(ctx context.Context, o snapshotOptions, stdout io.Writer) error {
	logger, err := o.log.logger()
	if err != nil {
		return err
	}
	pages, meta, err := savedPageDirs(o.fromPages)
	if err != nil {
		return usagef("%v", err)
	}
	manifest, err := snapshot.Rebuild(ctx, snapshot.RebuildConfig{
		PagesDir: pages, MetadataDir: meta, OutDir: o.out, Tables: o.tables, Logger: logger,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "snapshot %s (rebuilt from %s): %s\n", o.out, o.fromPages, strings.Join(manifestSummary(manifest), ", "))
	return nil
}

// savedPageDirs accepts a snapshot directory (DIR/pages, DIR/metadata) or
// its pages directory (metadata beside it).
func savedPageDirs(dir string) (pages, meta string, err error) {
	if st, err := os.Stat(filepath.Join(dir, "pages")); err == nil && st.IsDir() {
		return filepath.Join(dir, "pages"), filepath.Join(dir, "metadata"), nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", "", fmt.Errorf("--from-pages %s: not a directory", dir)
	}
	return dir, filepath.Join(filepath.Dir(filepath.Clean(dir)), "metadata"), nil
}

// manifestSummary lists each table with its rows, and flags tables whose
// Parquet rows differ from the source's own count.
func manifestSummary(m *snapshot.Manifest) []string {
	names := slices.Sorted(maps.Keys(m.Tables))

	parts := make([]string, 0, len(names))
	for _, name := range names {
		t := m.Tables[name]
		switch {
		case t.Status != "complete":
			parts = append(parts, fmt.Sprintf("%s %s", name, t.Status))
		case t.SourceCount >= 0 && t.SourceCount != t.Rows:
			parts = append(parts, fmt.Sprintf("%s %d rows (source counts %d)", name, t.Rows, t.SourceCount))
		default:
			parts = append(parts, fmt.Sprintf("%s %d rows", name, t.Rows))
		}
	}
	return parts
}
