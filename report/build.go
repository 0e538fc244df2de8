package report

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// IndexFile is the run folder's entry page.
const IndexFile = "index.html"

// Build writes every report of a run folder to cfg.OutDir: the
// reconciliation, the validation and admin inventories from the staging
// database, the reviewer's sample, plan and write-log audit when their
// inputs are given, and index.html linking them all.
func Build(ctx context.Context, cfg Config) (*Result, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := openReadOnly(ctx, cfg.DBPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	res, err := load(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	res.Docs = append(res.Docs, reconciliationDoc(res, cfg))
	more, err := stagingDocs(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	res.Docs = append(res.Docs, more...)
	snapshot, snapshotAt := snapshotOf(ctx, db)

	var rate []RatePoint
	if cfg.LogDir != "" {
		audit, points, err := WriteLogAudit(ctx, cfg.LogDir)
		if err != nil {
			return nil, err
		}
		res.Docs, rate = append(res.Docs, audit), points
	}
	if cfg.Plan != nil {
		res.Docs = append(res.Docs, PlanDoc(*cfg.Plan))
	}

	if err := writeDocs(res, cfg.OutDir); err != nil {
		return nil, err
	}
	if err := writeIndex(res, cfg, rate, snapshot, snapshotAt); err != nil {
		return nil, err
	}
	log.Info("reports written", "dir", cfg.OutDir, "reports", len(res.Docs), "all_ok", res.AllOK)
	return res, nil
}

// stagingDocs builds the reports that read the staging database alone.
func stagingDocs(ctx context.Context, db *sql.DB, cfg Config) ([]Doc, error) {
	// 0 lets the channel-asset report take the cap transform applied.
	capBytes := cfg.AttachmentCap
	builders := []struct {
		name  string
		build func() (Doc, error)
	}{
		{"reviewer sample", func() (Doc, error) {
			if cfg.Sample == nil {
				return Doc{}, nil
			}
			return ReviewerSample(ctx, db, *cfg.Sample)
		}},
		{"validation", func() (Doc, error) { return Validation(ctx, db) }},
		{"flow inventory", func() (Doc, error) { return FlowInventory(ctx, db) }},
		{"channel assets", func() (Doc, error) { return ChannelAssets(ctx, db, capBytes) }},
		{"routing inventory", func() (Doc, error) { return RoutingInventory(ctx, db, cfg.LogDir) }},
		{"SLA inventory", func() (Doc, error) { return SLAInventory(ctx, db) }},
	}
	var docs []Doc
	for _, b := range builders {
		d, err := b.build()
		if err != nil {
			return nil, fmt.Errorf("%s report: %w", b.name, err)
		}
		if d.Name != "" {
			docs = append(docs, d)
		}
	}
	return docs, nil
}

func writeDocs(res *Result, dir string) error {
	for i, d := range res.Docs {
		md, csvPath, err := d.Write(dir)
		if err != nil {
			return err
		}
		if i == 0 {
			res.Markdown, res.CSV = md, csvPath
		}
	}
	return nil
}

func writeIndex(res *Result, cfg Config, rate []RatePoint, snapshot string, snapshotAt time.Time) error {
	in := IndexInput{Snapshot: snapshot, SnapshotAt: snapshotAt, Staging: filepath.Base(cfg.DBPath),
		Docs: res.Docs, Rate: rate}
	// The staging file's own time, not the clock: rebuilding the reports of
	// the same run gives the same bytes.
	if st, err := os.Stat(cfg.DBPath); err == nil {
		in.StagingAt = st.ModTime().UTC()
	}
	for _, r := range res.Rows {
		in.Stages = append(in.Stages, stageCounts(r))
	}
	page, err := Index(in)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	path := filepath.Join(cfg.OutDir, IndexFile)
	if err := os.WriteFile(path, page, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func stageCounts(r Row) StageCounts {
	s := StageCounts{Object: r.SourceTable + " → " + r.Object, Snapshot: r.SnapshotRows, Staged: r.Staged,
		Merged: r.Merged, Rejected: r.Rejected, OutOfScope: r.OutOfScope, Written: r.Written,
		RolledBack: r.RolledBack}
	if r.Verify != nil {
		s.Verified = &r.Verify.Equal
	}
	return s
}
