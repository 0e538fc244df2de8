package replay

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// partsWindow is how many conversations' parts one stage query reads.
// Reading them one conversation at a time took two DuckDB queries per
// conversation, each scanning whole tables (staging has no indexes): about
// half of a replay's CPU, and minutes of every resumed run spent only to
// skip conversations an earlier run had finished.
const partsWindow = 500

// partReader reads the parts of conversations a window at a time, in the
// order eachConversation feeds them (by ord). Workers take conversations
// nearly in that order, so the newest two windows are kept; a conversation
// in neither (a straggler, or a lookup out of order) loads a window of its
// own. Whatever the order, each answer is read from staging as readParts
// reads it; only the number of queries changes. Safe for concurrent use.
type partReader struct {
	db *sql.DB

	mu      sync.Mutex
	windows [2]map[string][]stagePart // conversation source id -> parts; newest first
}

func newPartReader(db *sql.DB) *partReader { return &partReader{db: db} }

// read returns the parts of one conversation, as readParts does. The slice
// is the caller's: it leaves the cache, so a second read loads it again.
func (pr *partReader) read(ctx context.Context, convSourceID string) ([]stagePart, error) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if parts, ok := pr.take(convSourceID); ok {
		return parts, nil
	}
	w, err := loadPartsWindow(ctx, pr.db, convSourceID)
	if err != nil {
		return nil, err
	}
	pr.windows[1], pr.windows[0] = pr.windows[0], w
	if parts, ok := pr.take(convSourceID); ok {
		return parts, nil
	}
	// Not a staged conversation: readParts answers (with no parts) as before.
	return readParts(ctx, pr.db, convSourceID)
}

func (pr *partReader) take(convSourceID string) ([]stagePart, bool) {
	for _, w := range pr.windows {
		if parts, ok := w[convSourceID]; ok {
			delete(w, convSourceID)
			return parts, true
		}
	}
	return nil, false
}

// windowCTE names the partsWindow conversations from the given one on, by ord.
const windowCTE = `with w as (
	select source_id from stage.conversations
	 where ord >= (select ord from stage.conversations where source_id = ?)
	 order by ord limit ?)`

// loadPartsWindow reads the parts of the partsWindow conversations that
// start at convSourceID, every conversation of the window getting an entry
// (empty when it has no parts), with their files as readParts fills them.
func loadPartsWindow(ctx context.Context, db *sql.DB, convSourceID string) (map[string][]stagePart, error) {
	w := map[string][]stagePart{}
	err := scanRows(ctx, db, "stage.conversation_parts", windowCTE+`
		select w.source_id, p.source_table, p.source_id, p.conversation_source_id, p.part_order, p.author_type,
		       p.contact_source_id, p.admin_source_id, p.message_type, p.body, p.created_at
		  from w left join stage.conversation_parts p on p.conversation_source_id = w.source_id
		 order by w.source_id, p.part_order, p.ord`,
		func(scan func(...any) error) error {
			var conv string
			var p stagePart
			var order int64
			if err := scan(&conv, ns{&p.SourceTable}, ns{&p.SourceID}, ns{&p.ConversationSourceID}, ni{&order},
				ns{&p.AuthorType}, ns{&p.ContactSourceID}, ns{&p.AdminSourceID}, ns{&p.MessageType},
				ns{&p.Body}, ni{&p.CreatedAt}); err != nil {
				return err
			}
			if p.ConversationSourceID == "" { // the left join's row for a conversation without parts
				w[conv] = nil
				return nil
			}
			p.PartOrder = int(order)
			w[conv] = append(w[conv], p)
			return nil
		}, convSourceID, partsWindow)
	if err != nil {
		return nil, err
	}
	return w, attachWindowFiles(ctx, db, convSourceID, w)
}

// attachWindowFiles fills the parts' files the way readParts does, one
// conversation at a time (attachFiles), but only for the conversations of
// the window that have files: most have none.
func attachWindowFiles(ctx context.Context, db *sql.DB, convSourceID string, w map[string][]stagePart) error {
	if !attachmentsStaged(ctx, db) {
		return nil
	}
	var withFiles []string
	err := scanRows(ctx, db, "stage.attachments", windowCTE+`
		select distinct a.conversation_source_id from stage.attachments a join w on w.source_id = a.conversation_source_id`,
		func(scan func(...any) error) error {
			var id string
			if err := scan(&id); err != nil {
				return err
			}
			withFiles = append(withFiles, id)
			return nil
		}, convSourceID, partsWindow)
	if err != nil {
		return err
	}
	for _, id := range withFiles {
		if err := attachFiles(ctx, db, id, w[id]); err != nil {
			return fmt.Errorf("conversation %s: %w", id, err)
		}
	}
	return nil
}
