package snapshot

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// trackKey marks a request context whose list read asks for change tracking.
type trackKey struct{}

// trackChanges makes the page requests of a tracked table carry
// Prefer: odata.track-changes, so that its last page brings a delta link.
func trackChanges(ctx context.Context, s *tableSchema) context.Context {
	if s != nil && s.tracked {
		return context.WithValue(ctx, trackKey{}, true)
	}
	return ctx
}

func tracking(ctx context.Context) bool {
	v, _ := ctx.Value(trackKey{}).(bool)
	return v
}

// noteDeltaLink keeps the delta link of a full read's last page. A tracked
// table whose last page has none still has all its rows; its next delta
// then reads by watermark.
func (r *tableRun) noteDeltaLink(p *page) {
	if p.nextLink != "" || r.schema == nil || !r.schema.tracked {
		return
	}
	r.cp.DeltaLink = p.deltaLink
	if p.deltaLink == "" {
		r.log.Warn("dataverse tracked table: last page has no delta link; the next delta reads by watermark")
	}
}

// readChanges follows the delta link (or the watermark query) page by page.
func (d *deltaRun) readChanges(ctx context.Context) error {
	if d.cp.ChangesDone {
		return nil
	}
	link := d.cp.NextLink
	if d.cp.Pages == 0 {
		var err error
		if link, err = d.firstChangeLink(ctx); err != nil {
			return err
		}
	}
	for {
		n := d.cp.Pages
		body, err := d.c.page(ctx, d.table, link, n)
		if err != nil {
			if d.cp.Mode == DeltaChangeTracking && isExpiredToken(err) {
				if err := d.fallBack(err); err != nil {
					return err
				}
				return d.readChanges(ctx)
			}
			return err
		}
		next, err := d.commitChangePage(ctx, n, body)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		link = next
	}
}

// firstChangeLink is the base's delta link, or the query for rows modified
// since the base's watermark less the margin. A table without modifiedon
// is read whole; unchanged rows are then dropped by versionnumber.
func (d *deltaRun) firstChangeLink(ctx context.Context) (string, error) {
	bt := d.base.m.Tables[d.table]
	if d.cp.Mode == DeltaChangeTracking {
		return bt.DeltaLink, nil
	}
	u := d.c.base + d.schema.entitySet + "?$select=" + d.schema.selectList()
	w, err := d.baseWatermark(ctx)
	if err != nil {
		return "", err
	}
	if w.IsZero() {
		d.log.Warn("dataverse delta: no modifiedon watermark; reading every row")
		return u, nil
	}
	since := w.Add(-watermarkMargin).UTC().Format("2006-01-02T15:04:05Z")
	filter := strings.ReplaceAll(url.QueryEscape("modifiedon ge "+since), "+", "%20")
	return u + "&$filter=" + filter, nil
}

// baseWatermark is the newest modifiedon of the base chain: recorded in a
// delta base, computed from a full base's Parquet.
func (d *deltaRun) baseWatermark(ctx context.Context) (time.Time, error) {
	if !d.hasColumn("modifiedon") {
		return time.Time{}, nil
	}
	if st := d.base.m.Tables[d.table].Delta; st != nil {
		if st.Watermark == "" {
			return time.Time{}, nil
		}
		w, err := time.Parse(time.RFC3339, st.Watermark)
		if err != nil {
			return time.Time{}, fmt.Errorf("table %s: base watermark %q: %w", d.table, st.Watermark, err)
		}
		return w, nil
	}
	return d.duck().maxModified(ctx, d.base.parts(d.table), false)
}

func (d *deltaRun) hasColumn(key string) bool {
	for _, c := range d.schema.columns {
		if c.key == key {
			return true
		}
	}
	return false
}

// commitChangePage stores page n (raw and as a part) and checkpoints it;
// it returns the next link, "" after the last page.
func (d *deltaRun) commitChangePage(ctx context.Context, n int, body []byte) (string, error) {
	p, err := decodePage(body)
	if err != nil {
		return "", fmt.Errorf("table %s delta page %d: decode: %w", d.table, n, err)
	}
	ups, dels, err := splitDelta(p.rows, d.schema.primaryID)
	if err != nil {
		return "", fmt.Errorf("table %s delta page %d: %w", d.table, n, err)
	}
	if d.cp.Mode == DeltaWatermark {
		if ups, err = d.dropUnchanged(ctx, ups); err != nil {
			return "", fmt.Errorf("table %s delta page %d: %w", d.table, n, err)
		}
	}
	// Changed notes and attachments bring their files, as in a full read.
	shim := &tableRun{cfg: d.cfg, api: d.c, table: d.table, log: d.log, schema: d.schema}
	blobFiles, err := shim.fetchBlobs(ctx, n, ups)
	if err != nil {
		return "", err
	}
	if p.nextLink == "" && d.cp.Mode == DeltaChangeTracking && p.deltaLink == "" {
		// Spec §8.2: a last page without either link is a broken answer.
		return "", fmt.Errorf("table %s delta page %d: last page has neither next nor delta link", d.table, n)
	}
	pageFile, err := writePage(d.cfg.OutDir, pageRel(d.table, n), body, len(p.rows))
	if err != nil {
		return "", fmt.Errorf("table %s delta page %d: %w", d.table, n, err)
	}
	part, err := d.writeDeltaPart(n, ups, dels)
	if err != nil {
		return "", fmt.Errorf("table %s delta page %d: %w", d.table, n, err)
	}
	cp := d.cp
	cp.Pages, cp.Parts, cp.NextLink = n+1, n+1, p.nextLink
	cp.Rows += part.Rows
	cp.Changed += int64(len(ups))
	cp.Deleted += int64(len(dels))
	cp.Files = append(append(cp.Files, pageFile, part), blobFiles...)
	if p.nextLink == "" {
		cp.ChangesDone, cp.DeltaLink = true, p.deltaLink
	}
	if err := d.save(); err != nil {
		return "", err
	}
	d.log.Info("dataverse delta page committed", "page", n, "changed", len(ups), "deleted", len(dels))
	d.progress(cp.Rows, cp.Pages)
	return p.nextLink, nil
}

// splitDelta separates changed rows from $deletedEntity tombstones, whose
// id becomes the primary key.
func splitDelta(rows []map[string]any, pk string) (ups []map[string]any, dels []string, err error) {
	for i, row := range rows {
		if !isTombstone(row) {
			ups = append(ups, row)
			continue
		}
		id, _ := row["id"].(string)
		if !isGUID(id) {
			return nil, nil, fmt.Errorf("row %d: $deletedEntity without a GUID id", i)
		}
		dels = append(dels, strings.ToLower(id))
	}
	return ups, dels, nil
}

// isTombstone: a delta entry whose context names $deletedEntity, or, should
// the context be missing, one carrying only id and reason.
func isTombstone(row map[string]any) bool {
	if ctx, ok := row["@odata.context"].(string); ok {
		return strings.HasSuffix(ctx, "/$deletedEntity")
	}
	_, hasID := row["id"]
	_, hasReason := row["reason"]
	return hasID && hasReason && len(row) == 2
}

// writeDeltaPart writes changed rows then tombstones as part n, with the
// table's columns plus DeletedColumn.
func (d *deltaRun) writeDeltaPart(n int, ups []map[string]any, dels []string) (FileEntry, error) {
	rows := make([]map[string]any, 0, len(ups)+len(dels))
	rows = append(rows, ups...)
	for _, id := range dels {
		rows = append(rows, map[string]any{d.schema.primaryID: id})
	}
	rec, err := buildRecord(d.schema, rows)
	if err != nil {
		return FileEntry{}, err
	}
	defer rec.Release()
	out := withDeleted(rec, len(ups))
	defer out.Release()
	part, err := writePart(d.cfg.OutDir, partRel(d.table, n), out)
	if err != nil {
		return FileEntry{}, err
	}
	if part.Rows != int64(len(rows)) {
		return FileEntry{}, fmt.Errorf("built %d rows, wrote %d", len(rows), part.Rows)
	}
	return part, nil
}

// withDeleted appends DeletedColumn: false for the first ups rows, true after.
func withDeleted(rec arrow.RecordBatch, ups int) arrow.RecordBatch {
	b := array.NewBooleanBuilder(memory.DefaultAllocator)
	defer b.Release()
	for i := 0; i < int(rec.NumRows()); i++ {
		b.Append(i >= ups)
	}
	flags := b.NewArray()
	defer flags.Release()
	fields := append(append([]arrow.Field{}, rec.Schema().Fields()...),
		arrow.Field{Name: DeletedColumn, Type: arrow.FixedWidthTypes.Boolean})
	cols := append(append([]arrow.Array{}, rec.Columns()...), flags)
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}

// dropUnchanged removes rows the watermark overlap read again: the base
// chain already holds their primary key at the same versionnumber.
func (d *deltaRun) dropUnchanged(ctx context.Context, ups []map[string]any) ([]map[string]any, error) {
	if len(ups) == 0 || !d.hasColumn("versionnumber") {
		return ups, nil
	}
	chain, err := d.base.chain()
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, b := range chain {
		parts = append(parts, b.parts(d.table)...)
	}
	known, err := d.duck().knownVersions(ctx, parts, d.schema.primaryID, ups)
	if err != nil {
		return nil, fmt.Errorf("compare versions with the base: %w", err)
	}
	out := ups[:0]
	for _, row := range ups {
		id, _ := row[d.schema.primaryID].(string)
		if !known[strings.ToLower(id)+"/"+versionOf(row)] {
			out = append(out, row)
		}
	}
	return out, nil
}

// versionOf renders a row's versionnumber as decoded, "" when absent.
func versionOf(row map[string]any) string {
	if v, ok := row["versionnumber"]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

// readKeys reads every primary key the org has now (watermark mode).
func (d *deltaRun) readKeys(ctx context.Context) error {
	if d.cp.Mode != DeltaWatermark || d.cp.KeysDone {
		return nil
	}
	link := d.cp.KeyNextLink
	if d.cp.KeyPages == 0 {
		link = d.c.base + d.schema.entitySet + "?$select=" + d.schema.primaryID
	}
	for {
		n := d.cp.KeyPages
		body, err := d.c.page(ctx, d.table, link, n)
		if err != nil {
			return fmt.Errorf("key read: %w", err)
		}
		next, err := d.commitKeyPage(n, body)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		link = next
	}
}

func keyPartRel(table string, n int) string {
	return fmt.Sprintf("keys/%s/part-%05d.parquet", table, n)
}
func keyPageRel(table string, n int) string {
	return fmt.Sprintf("pages/%s/keys/%05d.json.zst", table, n)
}

func (d *deltaRun) commitKeyPage(n int, body []byte) (string, error) {
	p, err := decodePage(body)
	if err != nil {
		return "", fmt.Errorf("table %s key page %d: decode: %w", d.table, n, err)
	}
	pk := d.schema.primaryID
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	for i, row := range p.rows {
		id, _ := row[pk].(string)
		if !isGUID(id) {
			return "", fmt.Errorf("table %s key page %d row %d: %s is not a GUID", d.table, n, i, pk)
		}
		b.Append(strings.ToLower(id))
	}
	ids := b.NewArray()
	defer ids.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: pk, Type: arrow.BinaryTypes.String}}, nil),
		[]arrow.Array{ids}, int64(ids.Len()))
	defer rec.Release()
	pageFile, err := writePage(d.cfg.OutDir, keyPageRel(d.table, n), body, len(p.rows))
	if err != nil {
		return "", fmt.Errorf("table %s key page %d: %w", d.table, n, err)
	}
	part, err := writePart(d.cfg.OutDir, keyPartRel(d.table, n), rec)
	if err != nil {
		return "", fmt.Errorf("table %s key page %d: %w", d.table, n, err)
	}
	cp := d.cp
	cp.KeyPages, cp.KeyNextLink = n+1, p.nextLink
	cp.Keys += part.Rows
	cp.KeysDone = p.nextLink == ""
	cp.Files = append(cp.Files, pageFile, part)
	if err := d.save(); err != nil {
		return "", err
	}
	return p.nextLink, nil
}

// tombstonesPerPart bounds a key-diff part, and the ids held at once.
const tombstonesPerPart = 5000

// diffKeys writes a tombstone for every id the base chain holds that the
// org no longer has (watermark mode). It is rerun whole after a crash: the
// parts it wrote are uncommitted until the checkpoint names them.
func (d *deltaRun) diffKeys(ctx context.Context) error {
	if d.cp.Mode != DeltaWatermark || !d.cp.KeysDone || d.cp.Complete {
		return nil
	}
	chain, err := d.base.chain()
	if err != nil {
		return err
	}
	baseIDs, err := idsSQL(chain, d.table, d.schema.primaryID)
	if err != nil {
		return err
	}
	var files []FileEntry
	var deleted int64
	n := d.cp.Parts
	err = d.duck().missingIDs(ctx, baseIDs, d.keyFiles(), d.schema.primaryID, tombstonesPerPart,
		func(ids []string) error {
			part, err := d.writeDeltaPart(n, nil, ids)
			if err != nil {
				return fmt.Errorf("table %s tombstone part %d: %w", d.table, n, err)
			}
			files = append(files, part)
			deleted += part.Rows
			n++
			return nil
		})
	if err != nil {
		return fmt.Errorf("table %s: key diff: %w", d.table, err)
	}
	d.cp.Parts = n
	d.cp.Deleted += deleted
	d.cp.Rows += deleted
	d.cp.Files = append(d.cp.Files, files...)
	d.log.Info("dataverse delta key diff", "keys", d.cp.Keys, "deleted", deleted)
	return nil // finish commits the checkpoint with the parts
}

func (d *deltaRun) keyFiles() []string {
	var out []string
	for _, f := range d.cp.Files {
		if strings.HasPrefix(f.Path, "keys/") {
			out = append(out, joinRel(d.cfg.OutDir, f.Path))
		}
	}
	return out
}

// finish records the new watermark and marks the table complete.
func (d *deltaRun) finish(ctx context.Context) error {
	if d.hasColumn("modifiedon") {
		w, err := d.baseWatermark(ctx)
		if err != nil {
			return err
		}
		var parts []string
		for _, f := range d.cp.Files {
			if strings.HasPrefix(f.Path, "tables/") {
				parts = append(parts, joinRel(d.cfg.OutDir, f.Path))
			}
		}
		nw, err := d.duck().maxModified(ctx, parts, true)
		if err != nil {
			return fmt.Errorf("table %s: watermark: %w", d.table, err)
		}
		if nw.After(w) {
			w = nw
		}
		if !w.IsZero() {
			d.cp.Watermark = w.UTC().Format(time.RFC3339)
		}
	}
	d.cp.Complete = true
	if err := d.save(); err != nil {
		return err
	}
	d.log.Info("dataverse delta complete", "mode", d.cp.Mode, "changed", d.cp.Changed, "deleted", d.cp.Deleted)
	return nil
}
