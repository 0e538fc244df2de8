package transform

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Omnichannel transcripts (spec §13.29) are not columns: each transcript's
// messages are a JSON document in the documentbody of an annotation on the
// msdyn_transcript row, which the snapshot stores as a blob
// (blobs/sha256/<ab>/<rest>, docs/contracts.md §1). SQL cannot open files
// whose names it only learns from a query, so loadTranscripts reads them
// here, before the SQL steps, into three temp tables that
// sql/56_omnichannel.sql reads:
//
//	oc_transcript_docs  one row per transcript note, with status ok or why not
//	oc_messages         one row per message of the ok documents
//	oc_message_files    one row per attachment a message names
//
// Message text goes only into these tables, never into logs or errors.

const transcriptDDL = `
create or replace temp table oc_transcript_docs (
    transcriptid varchar, annotationid varchar, status varchar, detail varchar);
create or replace temp table oc_messages (
    transcriptid varchar, annotationid varchar, seq integer, message_id varchar, sent_at timestamptz,
    sender_kind varchar, sender_id varchar, sender_name varchar, content varchar, content_type varchar,
    tags varchar, is_control boolean, deleted boolean);
create or replace temp table oc_message_files (
    transcriptid varchar, seq integer, file_id varchar, file_name varchar, file_type varchar,
    annotationid varchar);`

// transcriptMessage is one message object of a transcript document; fields
// the transform does not use are not decoded.
type transcriptMessage struct {
	ID               json.RawMessage `json:"id"`
	Content          string          `json:"content"`
	ContentType      string          `json:"contentType"`
	CreatedDateTime  string          `json:"createdDateTime"`
	Created          string          `json:"created"`
	From             *messageFrom    `json:"from"`
	IsControlMessage bool            `json:"isControlMessage"`
	Tags             string          `json:"tags"`
	Deleted          bool            `json:"deleted"`
	Attachments      []struct {
		ID           json.RawMessage `json:"id"`
		Name         string          `json:"name"`
		FileType     string          `json:"fileType"`
		AnnotationID string          `json:"annotationid"`
	} `json:"attachments"`
}

// messageFrom is {"user": {...}} for people, {"application": {...}} for bots.
type messageFrom struct {
	User        *messageParty `json:"user"`
	Application *messageParty `json:"application"`
}

type messageParty struct {
	DisplayName string `json:"displayName"`
	ID          string `json:"id"`
}

// transcriptNote is one annotation holding a transcript.
type transcriptNote struct {
	annotationID, transcriptID string
	sha, dlError               sql.NullString
}

// loadTranscripts fills the oc_ tables from the transcript notes of
// src.annotation; without that view (no annotation table, or one without
// blob columns) the tables stay empty and 56_omnichannel.sql rejects each
// transcript as having no content.
func loadTranscripts(ctx context.Context, conn *sql.Conn, absDir string) error {
	if _, err := conn.ExecContext(ctx, transcriptDDL); err != nil {
		return fmt.Errorf("create transcript tables: %w", err)
	}
	ok, err := hasColumns(ctx, conn, "annotation", "annotationid", "objecttypecode", "_objectid_value",
		"_objectid_value__lookuplogicalname", "documentbody__sha256", "documentbody__error")
	if err != nil || !ok {
		return err
	}
	notes, err := transcriptNotes(ctx, conn)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("load transcripts: %w", err)
	}
	defer tx.Rollback()
	ins, err := newTranscriptInserts(ctx, tx)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, n := range notes {
		if err := ins.note(ctx, absDir, n); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("load transcripts: %w", err)
	}
	return nil
}

// hasColumns says whether src.<table> exists with every named column.
func hasColumns(ctx context.Context, conn *sql.Conn, table string, cols ...string) (bool, error) {
	var n int
	err := conn.QueryRowContext(ctx, `select count(*) from duckdb_columns()
		where schema_name = 'src' and table_name = ? and list_contains(?, column_name)`,
		table, cols).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("inspect src.%s: %w", table, err)
	}
	return n == len(cols), nil
}

// transcriptNotes lists the notes on transcripts, one per annotationid (a
// copy seen twice in paging is read once), in id order so reruns match.
func transcriptNotes(ctx context.Context, conn *sql.Conn) ([]transcriptNote, error) {
	rows, err := conn.QueryContext(ctx, `select distinct on (annotationid)
			annotationid, _objectid_value, documentbody__sha256, documentbody__error
		from src.annotation
		where annotationid is not null and _objectid_value is not null
			and coalesce(_objectid_value__lookuplogicalname, objecttypecode) = 'msdyn_transcript'
		order by annotationid`)
	if err != nil {
		return nil, fmt.Errorf("list transcript notes: %w", err)
	}
	defer rows.Close()
	var out []transcriptNote
	for rows.Next() {
		var n transcriptNote
		if err := rows.Scan(&n.annotationID, &n.transcriptID, &n.sha, &n.dlError); err != nil {
			return nil, fmt.Errorf("list transcript notes: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// transcriptInserts are the prepared inserts of one load.
type transcriptInserts struct{ doc, msg, file *sql.Stmt }

func newTranscriptInserts(ctx context.Context, tx *sql.Tx) (*transcriptInserts, error) {
	var ins transcriptInserts
	var err error
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&ins.doc, "insert into oc_transcript_docs values (?, ?, ?, ?)"},
		{&ins.msg, "insert into oc_messages values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
		{&ins.file, "insert into oc_message_files values (?, ?, ?, ?, ?, ?)"},
	} {
		if *p.st, err = tx.PrepareContext(ctx, p.sql); err != nil {
			ins.close()
			return nil, fmt.Errorf("prepare transcript insert: %w", err)
		}
	}
	return &ins, nil
}

func (ins *transcriptInserts) close() {
	for _, st := range []*sql.Stmt{ins.doc, ins.msg, ins.file} {
		if st != nil {
			st.Close()
		}
	}
}

// note records one transcript note: its messages when the document reads,
// else the reason it does not.
func (ins *transcriptInserts) note(ctx context.Context, absDir string, n transcriptNote) error {
	msgs, status, detail := readTranscript(absDir, n)
	if _, err := ins.doc.ExecContext(ctx, n.transcriptID, n.annotationID, status, detail); err != nil {
		return fmt.Errorf("record transcript note %s: %w", n.annotationID, err)
	}
	for i, m := range msgs {
		if err := ins.message(ctx, n, i+1, m); err != nil {
			return err
		}
	}
	return nil
}

func (ins *transcriptInserts) message(ctx context.Context, n transcriptNote, seq int, m transcriptMessage) error {
	kind, party := "none", &messageParty{}
	switch {
	case m.From != nil && m.From.User != nil:
		kind, party = "user", m.From.User
	case m.From != nil && m.From.Application != nil:
		kind, party = "application", m.From.Application
	}
	_, err := ins.msg.ExecContext(ctx, n.transcriptID, n.annotationID, seq, rawString(m.ID),
		messageTime(m), kind, nullIfEmpty(party.ID), nullIfEmpty(party.DisplayName), m.Content,
		strings.ToLower(m.ContentType), m.Tags, m.IsControlMessage, m.Deleted)
	if err != nil {
		return fmt.Errorf("record message %d of transcript note %s: %w", seq, n.annotationID, err)
	}
	for _, a := range m.Attachments {
		if _, err := ins.file.ExecContext(ctx, n.transcriptID, seq, rawString(a.ID), nullIfEmpty(a.Name),
			nullIfEmpty(a.FileType), nullIfEmpty(a.AnnotationID)); err != nil {
			return fmt.Errorf("record attachment of transcript note %s: %w", n.annotationID, err)
		}
	}
	return nil
}

// readTranscript opens the note's blob and decodes its messages; status is
// ok, or no_file, download_failed, unreadable, unparsable with a detail
// that never quotes the document.
func readTranscript(absDir string, n transcriptNote) ([]transcriptMessage, string, string) {
	if n.dlError.Valid && n.dlError.String != "" {
		return nil, "download_failed", n.dlError.String
	}
	sum := strings.ToLower(n.sha.String)
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return nil, "no_file", "the note has no stored document (documentbody__sha256 empty)"
	}
	b, err := os.ReadFile(filepath.Join(absDir, "blobs", "sha256", sum[:2], sum[2:]))
	if err != nil {
		return nil, "unreadable", "blob " + sum + " is missing from the snapshot"
	}
	msgs, err := decodeTranscript(b)
	if err != nil {
		return nil, "unparsable", err.Error()
	}
	return msgs, "ok", ""
}

// decodeTranscript takes the document as a JSON array of messages (what the
// sample org and the bulk-download doc show, §13.29), or an object that
// wraps them in "messages" or "value", in case the list shape differs.
func decodeTranscript(b []byte) ([]transcriptMessage, error) {
	var msgs []transcriptMessage
	if err := json.Unmarshal(b, &msgs); err == nil {
		return msgs, nil
	}
	var wrapped struct {
		Messages []transcriptMessage `json:"messages"`
		Value    []transcriptMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &wrapped); err != nil {
		return nil, fmt.Errorf("transcript document is not a JSON list of messages (%d bytes)", len(b))
	}
	if wrapped.Messages != nil {
		return wrapped.Messages, nil
	}
	if wrapped.Value != nil {
		return wrapped.Value, nil
	}
	return nil, fmt.Errorf("transcript document holds no message list (%d bytes)", len(b))
}

// messageTime is createdDateTime, else created; nil when neither parses.
func messageTime(m transcriptMessage) any {
	for _, s := range []string{m.CreatedDateTime, m.Created} {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s)); err == nil {
			return t.UTC()
		}
	}
	return nil
}

// rawString renders a JSON id that may be a string or a number; nil when absent.
func rawString(r json.RawMessage) any {
	var s string
	if err := json.Unmarshal(r, &s); err == nil {
		return nullIfEmpty(s)
	}
	if t := strings.TrimSpace(string(r)); t != "" && t != "null" {
		return t
	}
	return nil
}

func nullIfEmpty(s string) any {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return s
}
