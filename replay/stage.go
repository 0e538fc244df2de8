package replay

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// openStage opens the staging database read-only.
func openStage(path string) (*sql.DB, error) {
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		return nil, fmt.Errorf("open staging %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open staging %s: %w", path, err)
	}
	return db, nil
}

type stageAdmin struct{ SourceID, Email, Name string }
type stageTeam struct{ SourceID, Name string }

type stageAttr struct {
	Model, Name, DataType, Description, SourceTable, SourceID string
}

type stageCompany struct {
	SourceTable, SourceID, CompanyID, Name, Website, Industry string
	Size, RemoteCreatedAt                                     int64
	CustomAttributes                                          json.RawMessage
}

type stageContact struct {
	SourceTable, SourceID, Role, ExternalID, Email, Name, Phone string
	SignedUpAt                                                  int64
	Unsubscribed                                                bool
	CompanySourceID                                             string
	CustomAttributes                                            json.RawMessage
}

type stageConversation struct {
	SourceTable, SourceID, ContactSourceID, CompanySourceID string
	AdminSourceID, TeamSourceID, Title, Body                string
	CreatedAt                                               int64
	State                                                   string
	SnoozedUntil                                            int64
	CustomAttributes                                        json.RawMessage
}

type stagePart struct {
	SourceTable, SourceID, ConversationSourceID string
	PartOrder                                   int
	AuthorType, ContactSourceID, AdminSourceID  string
	MessageType, Body                           string
	CreatedAt                                   int64
	Attachments                                 []stageAttachment // stage.attachments on this part, in position order
}

// scanRows runs query and calls fn with a scanner per row, streaming so that
// memory does not grow with the table.
func scanRows(ctx context.Context, db *sql.DB, table, query string, fn func(scan func(...any) error) error,
	args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	return nil
}

// columnOr names column col of stage.<table>, or the SQL expression
// fallback when the table lacks it: staging written before the column
// existed (contracts §2) still replays, the value reading as unset.
func columnOr(ctx context.Context, db *sql.DB, table, col, fallback string) string {
	var n int
	err := db.QueryRowContext(ctx, `select count(*) from duckdb_columns()
		where schema_name = 'stage' and table_name = ? and column_name = ?`, table, col).Scan(&n)
	if err != nil || n == 0 {
		return fallback
	}
	return col
}

// ns turns NULL strings into "" and NULL numbers into 0 at scan time.
type ns struct{ p *string }

func (n ns) Scan(v any) error {
	var s sql.NullString
	if err := s.Scan(v); err != nil {
		return err
	}
	*n.p = s.String
	return nil
}

type ni struct{ p *int64 }

func (n ni) Scan(v any) error {
	var s sql.NullInt64
	if err := s.Scan(v); err != nil {
		return err
	}
	*n.p = s.Int64
	return nil
}

// nj scans a JSON column (cast to varchar) into raw JSON; NULL becomes nil.
type nj struct{ p *json.RawMessage }

func (n nj) Scan(v any) error {
	var s sql.NullString
	if err := s.Scan(v); err != nil {
		return err
	}
	if s.Valid && s.String != "" && s.String != "null" {
		*n.p = json.RawMessage(s.String)
	}
	return nil
}

func readAdmins(ctx context.Context, db *sql.DB) ([]stageAdmin, error) {
	var out []stageAdmin
	err := scanRows(ctx, db, "stage.admins",
		`select source_id, email, name from stage.admins order by ord`,
		func(scan func(...any) error) error {
			var a stageAdmin
			if err := scan(ns{&a.SourceID}, ns{&a.Email}, ns{&a.Name}); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	return out, err
}

func readTeams(ctx context.Context, db *sql.DB) ([]stageTeam, error) {
	var out []stageTeam
	err := scanRows(ctx, db, "stage.teams", `select source_id, name from stage.teams order by ord`,
		func(scan func(...any) error) error {
			var t stageTeam
			if err := scan(ns{&t.SourceID}, ns{&t.Name}); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	return out, err
}

func readAttrs(ctx context.Context, db *sql.DB) ([]stageAttr, error) {
	var out []stageAttr
	err := scanRows(ctx, db, "stage.data_attributes",
		`select model, name, data_type, description, source_table, source_id
		   from stage.data_attributes order by ord`,
		func(scan func(...any) error) error {
			var a stageAttr
			if err := scan(ns{&a.Model}, ns{&a.Name}, ns{&a.DataType}, ns{&a.Description},
				ns{&a.SourceTable}, ns{&a.SourceID}); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	return out, err
}

func eachCompany(ctx context.Context, db *sql.DB, fn func(stageCompany) error) error {
	return scanRows(ctx, db, "stage.companies",
		`select source_table, source_id, company_id, name, website, industry, `+
			columnOr(ctx, db, "companies", "size", "null")+`, remote_created_at,
		        custom_attributes::varchar from stage.companies order by ord`,
		func(scan func(...any) error) error {
			var c stageCompany
			if err := scan(ns{&c.SourceTable}, ns{&c.SourceID}, ns{&c.CompanyID}, ns{&c.Name}, ns{&c.Website},
				ns{&c.Industry}, ni{&c.Size}, ni{&c.RemoteCreatedAt}, nj{&c.CustomAttributes}); err != nil {
				return err
			}
			return fn(c)
		})
}

func eachContact(ctx context.Context, db *sql.DB, fn func(stageContact) error) error {
	return scanRows(ctx, db, "stage.contacts",
		`select source_table, source_id, role, external_id, email, name, phone, signed_up_at,
		        coalesce(`+columnOr(ctx, db, "contacts", "unsubscribed_from_emails", "null")+`, false),
		        company_source_id, custom_attributes::varchar from stage.contacts order by ord`,
		func(scan func(...any) error) error {
			var c stageContact
			if err := scan(ns{&c.SourceTable}, ns{&c.SourceID}, ns{&c.Role}, ns{&c.ExternalID}, ns{&c.Email},
				ns{&c.Name}, ns{&c.Phone}, ni{&c.SignedUpAt}, &c.Unsubscribed, ns{&c.CompanySourceID},
				nj{&c.CustomAttributes}); err != nil {
				return err
			}
			return fn(c)
		})
}

func eachConversation(ctx context.Context, db *sql.DB, fn func(stageConversation) error) error {
	return scanRows(ctx, db, "stage.conversations",
		`select source_table, source_id, contact_source_id, company_source_id, admin_source_id,
		        team_source_id, title, body, created_at, state, snoozed_until,
		        custom_attributes::varchar from stage.conversations order by ord`,
		func(scan func(...any) error) error {
			var c stageConversation
			if err := scan(ns{&c.SourceTable}, ns{&c.SourceID}, ns{&c.ContactSourceID}, ns{&c.CompanySourceID},
				ns{&c.AdminSourceID}, ns{&c.TeamSourceID}, ns{&c.Title}, ns{&c.Body}, ni{&c.CreatedAt},
				ns{&c.State}, ni{&c.SnoozedUntil}, nj{&c.CustomAttributes}); err != nil {
				return err
			}
			return fn(c)
		})
}

func readParts(ctx context.Context, db *sql.DB, convSourceID string) ([]stagePart, error) {
	var out []stagePart
	err := scanRows(ctx, db, "stage.conversation_parts",
		`select source_table, source_id, conversation_source_id, part_order, author_type,
		        contact_source_id, admin_source_id, message_type, body, created_at
		   from stage.conversation_parts where conversation_source_id = ? order by part_order, ord`,
		func(scan func(...any) error) error {
			var p stagePart
			var order int64
			if err := scan(ns{&p.SourceTable}, ns{&p.SourceID}, ns{&p.ConversationSourceID}, ni{&order},
				ns{&p.AuthorType}, ns{&p.ContactSourceID}, ns{&p.AdminSourceID}, ns{&p.MessageType},
				ns{&p.Body}, ni{&p.CreatedAt}); err != nil {
				return err
			}
			p.PartOrder = int(order)
			out = append(out, p)
			return nil
		}, convSourceID)
	if err != nil {
		return out, err
	}
	return out, attachFiles(ctx, db, convSourceID, out)
}

// referencedPeople lists the admin and team source ids that conversations
// and admin-authored parts need.
func referencedPeople(ctx context.Context, db *sql.DB) (admins, teams []string, err error) {
	err = scanRows(ctx, db, "stage.conversations",
		`select distinct 'admin', admin_source_id from stage.conversations where admin_source_id is not null
		 union select distinct 'admin', admin_source_id from stage.conversation_parts
		   where author_type = 'admin' and admin_source_id is not null
		 union select distinct 'team', team_source_id from stage.conversations where team_source_id is not null
		 order by 1, 2`,
		func(scan func(...any) error) error {
			var kind, id string
			if err := scan(&kind, &id); err != nil {
				return err
			}
			if kind == "admin" {
				admins = append(admins, id)
			} else {
				teams = append(teams, id)
			}
			return nil
		})
	return admins, teams, err
}

func countRows(ctx context.Context, db *sql.DB, table string) int {
	var n int
	_ = db.QueryRowContext(ctx, "select count(*) from "+table).Scan(&n)
	return n
}
