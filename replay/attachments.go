package replay

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Files reach Intercom inline: attachment_files on a conversation reply
// (spec §10.2, §16) carries each file base64-encoded with its name and
// content type, at most 10 a reply. attachment_urls would need every file
// hosted where Intercom can fetch it, which a migration from an offline
// snapshot does not have. transform has already cut files over the cap into
// numbered parts and spread more than 10 over extra parts
// (transform/sql/57_attachments.sql); replay reads each file's bytes from
// the snapshot's blob store right before its part is sent.

// AttachmentFile is one entry of attachment_files.
type AttachmentFile struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        string `json:"data"` // base64
}

// PartAttachment is one file of a part as Intercom returns it.
type PartAttachment struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	FileSize    int64  `json:"filesize"`
}

// stageAttachment is one row of stage.attachments (contracts §2).
type stageAttachment struct {
	SourceTable, SourceID, PartSourceTable, PartSourceID string
	Position                                             int
	FileName, ContentType                                string
	Size, Offset, FileSize                               int64
	SHA256                                               string
	ChunkCount                                           int
	BlobFile                                             string // absolute: snapshot dir + blob_path
}

// attachmentsStaged says whether staging holds stage.attachments: staging
// written before attachments existed replays without them. Not cached: a
// *sql.DB's address may be reused by the next database opened.
func attachmentsStaged(ctx context.Context, db *sql.DB) bool {
	var n int
	err := db.QueryRowContext(ctx, `select count(*) from duckdb_tables()
		where (schema_name = 'stage' and table_name = 'attachments')
		   or (schema_name = 'reports' and table_name = 'attachment_rule')`).Scan(&n)
	return err == nil && n == 2
}

// attachFiles fills the Attachments of parts (one conversation's) from
// stage.attachments.
func attachFiles(ctx context.Context, db *sql.DB, convSourceID string, parts []stagePart) error {
	if len(parts) == 0 || !attachmentsStaged(ctx, db) {
		return nil
	}
	at := make(map[[2]string]int, len(parts))
	for i, p := range parts {
		at[[2]string{p.SourceTable, p.SourceID}] = i
	}
	others := "''"
	if blobDirsStaged(ctx, db) {
		others = `coalesce((select string_agg(d.dir || '/' || a.blob_path, chr(10) order by d.ord)
		                      from reports.blob_dirs d), '')`
	}
	return scanRows(ctx, db, "stage.attachments",
		`select a.source_table, a.source_id, a.part_source_table, a.part_source_id, a.position, a.file_name,
		        a.content_type, a.size_bytes, a.blob_offset, a.file_size_bytes, a.sha256, a.chunk_count,
		        r.snapshot_dir || '/' || a.blob_path, `+others+`
		   from stage.attachments a cross join reports.attachment_rule r
		  where a.conversation_source_id = ? order by a.ord`,
		func(scan func(...any) error) error {
			var a stageAttachment
			var pos, chunks int64
			var alternates string
			if err := scan(ns{&a.SourceTable}, ns{&a.SourceID}, ns{&a.PartSourceTable}, ns{&a.PartSourceID},
				ni{&pos}, ns{&a.FileName}, ns{&a.ContentType}, ni{&a.Size}, ni{&a.Offset}, ni{&a.FileSize},
				ns{&a.SHA256}, ni{&chunks}, ns{&a.BlobFile}, ns{&alternates}); err != nil {
				return err
			}
			a.Position, a.ChunkCount = int(pos), int(chunks)
			a.BlobFile = firstPresent(a.BlobFile, alternates)
			if i, ok := at[[2]string{a.PartSourceTable, a.PartSourceID}]; ok {
				parts[i].Attachments = append(parts[i].Attachments, a)
			}
			return nil
		}, convSourceID)
}

// blobDirsStaged says whether staging lists the snapshot directories of a
// delta chain (reports.blob_dirs); older staging has only snapshot_dir.
func blobDirsStaged(ctx context.Context, db *sql.DB) bool {
	var n int
	err := db.QueryRowContext(ctx, `select count(*) from duckdb_tables()
		where schema_name = 'reports' and table_name = 'blob_dirs'`).Scan(&n)
	return err == nil && n == 1
}

// firstPresent is path when it exists, else the first of the
// newline-separated alternates that does; path when none does, so that the
// error names where the blob should have been.
func firstPresent(path, alternates string) string {
	if _, err := os.Stat(path); err == nil || alternates == "" {
		return path
	}
	for _, alt := range strings.Split(alternates, "\n") {
		if _, err := os.Stat(alt); err == nil {
			return alt
		}
	}
	return path
}

// withAttachments makes o send p's files: they are read (and checked against
// their sha256) just before the intent, so that a missing or altered blob
// fails this part with the file named, and the bytes live only as long as
// the request. The write log keeps the body's digest, never the bytes. A dry
// run (and the plan, which is one) only checks each blob is there and long
// enough: reading every file would cost as much as the migration.
func withAttachments(o *op, p stagePart, req *ReplyRequest, dry bool) {
	if len(p.Attachments) == 0 {
		return
	}
	o.body = req
	o.prepare = func(context.Context) (json.RawMessage, error) {
		if dry {
			return nil, statFiles(p.Attachments)
		}
		files, err := loadFiles(p.Attachments)
		req.AttachmentFiles = files
		return nil, err
	}
}

func statFiles(atts []stageAttachment) error {
	for _, a := range atts {
		fi, err := os.Stat(a.BlobFile)
		if err == nil && fi.Size() < a.Offset+a.Size {
			err = fmt.Errorf("blob holds %d bytes, want at least %d", fi.Size(), a.Offset+a.Size)
		}
		if err != nil {
			return fmt.Errorf("attachment %s %s (%s): %w", a.SourceTable, a.SourceID, a.FileName, err)
		}
	}
	return nil
}

func loadFiles(atts []stageAttachment) ([]AttachmentFile, error) {
	out := make([]AttachmentFile, 0, len(atts))
	for _, a := range atts {
		data, err := readBlob(a)
		if err != nil {
			return nil, fmt.Errorf("attachment %s %s (%s): %w", a.SourceTable, a.SourceID, a.FileName, err)
		}
		out = append(out, AttachmentFile{Name: a.FileName, ContentType: a.ContentType,
			Data: base64.StdEncoding.EncodeToString(data)})
	}
	return out, nil
}

// errBlobAltered: the blob store does not hold what the snapshot recorded.
var errBlobAltered = errors.New("blob does not match its sha256")

// readBlob reads the bytes of one attachment: the whole file, or one part
// of a file split over the cap. A whole file is checked against its
// sha256; a part only by length (checking would read the whole file for
// every part).
func readBlob(a stageAttachment) ([]byte, error) {
	f, err := os.Open(a.BlobFile)
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	defer f.Close()
	data := make([]byte, a.Size)
	if _, err := f.ReadAt(data, a.Offset); err != nil && !(errors.Is(err, io.EOF) && a.Size == 0) {
		return nil, fmt.Errorf("read blob bytes %d..%d: %w", a.Offset, a.Offset+a.Size, err)
	}
	if a.ChunkCount <= 1 {
		sum := sha256.Sum256(data)
		if a.SHA256 != "" && hex.EncodeToString(sum[:]) != a.SHA256 {
			return nil, errBlobAltered
		}
	}
	return data, nil
}

// attachments compares a part's files with staging: how many, and their
// names in order. Only parts that have or should have files are judged, so
// that parts without any add no field to the tally. Notes give counts only:
// file names are customer data.
func (c *cmp) attachments(want []stageAttachment, got []PartAttachment) {
	if len(want) == 0 && len(got) == 0 {
		return
	}
	c.eq("attachment_count", len(want) == len(got))
	same := len(want) == len(got)
	for i := 0; same && i < len(want); i++ {
		same = want[i].FileName == got[i].Name
	}
	c.eq("attachment_names", same)
	if len(want) != len(got) {
		c.notes = append(c.notes, fmt.Sprintf("attachments=%d/%d", len(want), len(got)))
	}
}
