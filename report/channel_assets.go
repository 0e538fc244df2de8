package report

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// DefaultAttachmentCapBytes is the per-file size above which the channel
// assets report lists an attachment instead of expecting replay to carry it.
// Intercom states no API size limit (spec/intercom-api.md §16 "Attachments —
// every route and the limits": none in the 2.14 OpenAPI or the developer
// docs; 100 MB holds only for Messenger uploads), so 10 MiB is our own safety
// cap, the same as the mapping file's default attachments.max_bytes.
const DefaultAttachmentCapBytes int64 = 10 << 20

//go:embed sql/inv_channel_assets.sql
var channelAssetsSQL string

var channelAssetsHeader = []string{"kind", "source_table", "source_id", "file_name", "size_bytes", "reason",
	"link", "owner_table", "owner_id", "case_id", "case_number", "lands_on", "lands_on_id"}

// assetKind is one section of the report. The org can have such assets only
// when the snapshot holds at least one of the anyOf tables.
type assetKind struct {
	kind, title, why string
	anyOf            []string
}

var assetKinds = []assetKind{
	{"recording", "Voice recordings", "Omnichannel voice recordings stay in Dynamics (or wherever " +
		"msdyn_mediauri points); replay moves no recordings.", []string{"msdyn_ocrecording"}},
	{"transcript", "Chat transcripts", "Omnichannel chat transcripts whose messages did not become " +
		"conversation parts (see rejects.conversation_parts for why); export them and link them from the " +
		"conversation.", []string{"msdyn_transcript"}},
	{"chat_file", "Files shared in chats", "Files exchanged in Omnichannel conversations are notes on the " +
		"conversation, which replay does not move.", []string{"msdyn_ocliveworkitem"}},
	{"phonecall_recording_link", "Phone-call recording links", "Links to call recordings held by a " +
		"telephony system; the recordings stay there.", []string{"phonecall"}},
	{"attachment_over_cap", "Attachments over the cap", "Notes and e-mail attachments larger than the " +
		"per-file cap.", []string{"annotation", "activitymimeattachment"}},
	{"attachment_failed", "Attachments that failed", "The snapshot could not download these files, or " +
		"transform found them empty or missing from the blob store (see the reason); snapshot again or " +
		"fetch them by hand.", []string{"annotation", "activitymimeattachment"}},
	{"attachment_not_migrated", "Files of notes on contacts and accounts", "A note on a contact becomes " +
		"a note on the Intercom user, which cannot carry a file, and Intercom's API has no notes on " +
		"companies; attach these files to the user or company by hand.", []string{"annotation"}},
}

// ChannelAssets lists every reference that cannot move to Intercom as a
// file: voice recordings, chat transcripts and chat files, phone-call
// recording links, attachments over capBytes (when capBytes <= 0, the
// mapping's cap transform recorded, else DefaultAttachmentCapBytes) or that
// failed, and files of notes that are not migrated. Each line names the record
// that owns the file, its case when known, and the Intercom conversation,
// contact, company or admin the owner was staged as.
func ChannelAssets(ctx context.Context, db *sql.DB, capBytes int64) (Doc, error) {
	if capBytes <= 0 {
		capBytes = mappingCap(ctx, db)
	}
	cat, err := readCatalog(ctx, db)
	if err != nil {
		return Doc{}, fmt.Errorf("channel assets: %w", err)
	}
	rows, err := queryStrings(ctx, db, "channel assets", channelAssetsQuery(cat, capBytes))
	if err != nil {
		return Doc{}, err
	}
	return Doc{
		Name:     "channel_assets",
		Title:    "Channel assets",
		Summary:  fmt.Sprintf("%d recordings, transcripts, links and files to re-link by hand.", len(rows)),
		Markdown: channelAssetsMarkdown(cat, rows, capBytes),
		CSV:      csvWithHeader(channelAssetsHeader, rows),
	}, nil
}

func channelAssetsQuery(cat catalog, capBytes int64) string {
	activity := []string{"activityid varchar", "_regardingobjectid_value varchar",
		"_regardingobjectid_value__lookuplogicalname varchar"}
	text := strings.NewReplacer(
		"{{phonecall_links}}", phonecallLinks(cat),
		"{{cap}}", strconv.FormatInt(capBytes, 10),
	).Replace(channelAssetsSQL)
	return cat.expand(text, relations{
		"email":        {"src.email", activity},
		"phonecall":    {"src.phonecall", activity},
		"task":         {"src.task", activity},
		"appointment":  {"src.appointment", activity},
		"liveworkitem": {"src.msdyn_ocliveworkitem", activity},
		"annotation": {"src.annotation", []string{"annotationid varchar", "filename varchar",
			"filesize integer", "objecttypecode varchar", "_objectid_value varchar",
			"_objectid_value__lookuplogicalname varchar", "documentbody__size bigint",
			"documentbody__error varchar"}},
		"activitymimeattachment": {"src.activitymimeattachment", []string{"activitymimeattachmentid varchar",
			"filename varchar", "filesize integer", "objecttypecode varchar", "_objectid_value varchar",
			"_objectid_value__lookuplogicalname varchar", "body__size bigint", "body__error varchar"}},
		"recording": {"src.msdyn_ocrecording", []string{"msdyn_ocrecordingid varchar", "msdyn_name varchar",
			"msdyn_mediauri varchar", "_msdyn_liveworkitemid_value varchar", "msdyn_recording__size bigint",
			"msdyn_recording__error varchar"}},
		"transcript": {"src.msdyn_transcript", []string{"msdyn_transcriptid varchar", "msdyn_name varchar",
			"_msdyn_liveworkitemidid_value varchar"}},
		"incident":      {"src.incident", []string{"incidentid varchar", "ticketnumber varchar"}},
		"conversations": {"stage.conversations", []string{"source_id varchar"}},
		"contacts":      {"stage.contacts", []string{"source_id varchar", "merged_source_ids varchar[]"}},
		"companies":     {"stage.companies", []string{"source_id varchar"}},
		"admins":        {"stage.admins", []string{"source_id varchar"}},
		// files named by transcript messages, and transcripts whose messages are
		// parts (transform/sql/56_omnichannel.sql).
		"out_of_scope": {"reports.out_of_scope", []string{"source_table varchar", "source_id varchar",
			"reason varchar"}},
		"omnichannel_files": {"reports.omnichannel_files", []string{"message_id varchar", "item_id varchar",
			"file_id varchar", "file_name varchar", "annotationid varchar"}},
		"staged_attachments": {"stage.attachments", []string{"source_table varchar", "source_id varchar",
			"part_source_table varchar", "part_source_id varchar", "chunk_count integer"}},
		"attachment_rejects": {"rejects.attachments", []string{"source_table varchar", "source_id varchar",
			"rule varchar", "reason varchar"}},
	})
}

// linkColumn matches phonecall columns that hold where a call recording
// lives: Dynamics has none of its own, telephony integrations add them
// (e.g. new_recordingurl).
var linkColumn = regexp.MustCompile(`recording|url|uri|link`)

// phoneLinkColumns lists the text columns of src.phonecall named like a
// recording link, sorted.
func phoneLinkColumns(cat catalog) []string {
	var out []string
	for col, typ := range cat["src.phonecall"] {
		if typ == "VARCHAR" && linkColumn.MatchString(col) && !strings.HasSuffix(col, "__formatted") &&
			!strings.HasSuffix(col, "__lookuplogicalname") {
			out = append(out, col)
		}
	}
	sort.Strings(out)
	return out
}

// phonecallLinks selects one asset row per phone call and link column whose
// value is a web address.
func phonecallLinks(cat catalog) string {
	const empty = `select null::varchar, null::varchar, null::varchar, null::varchar, null::bigint,
        null::varchar, null::varchar, null::varchar, null::varchar where false`
	cols := phoneLinkColumns(cat)
	if len(cols) == 0 {
		return empty
	}
	parts := make([]string, len(cols))
	for i, col := range cols {
		parts[i] = fmt.Sprintf(`select 'phonecall_recording_link', 'phonecall', activityid, null, null::bigint,
        'recording link in phonecall.%s', regexp_replace(%s, '[?#].*$', ''), 'phonecall', activityid
    from src.phonecall where %s ilike 'http%%'`, col, sqlIdent(col), sqlIdent(col))
	}
	return strings.Join(parts, "\n    union all\n    ")
}

func channelAssetsMarkdown(cat catalog, rows [][]string, capBytes int64) string {
	var b strings.Builder
	b.WriteString("# Channel assets\n\n")
	fmt.Fprintf(&b, "Everything below stays behind when conversations move: re-link or archive each item "+
		"by hand. Attachments are listed when larger than %s (%d bytes) or when their download failed. "+
		"\"Lands on\" is the Intercom object the owning record was staged as; links are shown without "+
		"their query string.\n", humanBytes(capBytes), capBytes)

	byKind := map[string][][]string{}
	for _, r := range rows {
		byKind[r[0]] = append(byKind[r[0]], r)
	}
	for _, k := range assetKinds {
		fmt.Fprintf(&b, "\n## %s (%d)\n\n%s\n\n", k.title, len(byKind[k.kind]), k.why)
		if !anyPresent(cat, k.anyOf) {
			fmt.Fprintf(&b, "%s (no %s table).\n", noneFound, strings.Join(k.anyOf, " or "))
			continue
		}
		if k.kind == "phonecall_recording_link" && len(phoneLinkColumns(cat)) == 0 {
			b.WriteString("None: phonecall has no column named like a recording link " +
				"(recording, url, uri, link).\n")
			continue
		}
		writeMDTable(&b, []string{"source id", "file or link", "size", "owner", "case", "lands on", "reason"},
			assetCells(byKind[k.kind]))
	}
	return b.String()
}

func assetCells(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		file := r[3]
		if r[6] != "" {
			file = strings.TrimSpace(file + " " + r[6])
		}
		size := ""
		if n, err := strconv.ParseInt(r[4], 10, 64); err == nil {
			size = humanBytes(n)
		}
		caseRef := r[10]
		if caseRef == "" {
			caseRef = r[9]
		}
		landsOn := r[11]
		if r[12] != "" {
			landsOn += " " + r[12]
		}
		out[i] = []string{r[2], file, size, r[7] + " " + r[8], caseRef, landsOn, r[5]}
	}
	return out
}

func anyPresent(cat catalog, tables []string) bool {
	for _, t := range tables {
		if cat.has("src." + t) {
			return true
		}
	}
	return false
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// mappingCap is the per-file cap transform applied (reports.attachment_rule,
// from the mapping file), or DefaultAttachmentCapBytes for staging without it.
func mappingCap(ctx context.Context, db *sql.DB) int64 {
	var n sql.NullInt64
	err := db.QueryRowContext(ctx, "select max(max_bytes) from reports.attachment_rule").Scan(&n)
	if err != nil || !n.Valid || n.Int64 <= 0 {
		return DefaultAttachmentCapBytes
	}
	return n.Int64
}
