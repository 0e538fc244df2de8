package replay

import (
	"strings"
	"testing"

	"github.com/d2i/d2i/replay/replaytest"
)

// stageDDL is the stage schema of contracts.md §2.
const stageDDL = replaytest.StageDDL

// stageRows is a small staging set: two companies, two users and a lead,
// three conversations (closed with an owner and team, open from the lead,
// snoozed) and their parts.
const stageRows = replaytest.StageRows

// writeStage creates a staging DuckDB file from stageDDL and rows.
func writeStage(t *testing.T, rows string) string { return replaytest.WriteStage(t, rows) }

func TestReadStage(t *testing.T) {
	path := writeStage(t, stageRows)
	db, err := openStage(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	var contacts []stageContact
	if err := eachContact(ctx, db, func(c stageContact) error { contacts = append(contacts, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(contacts) != 3 || contacts[2].Role != "lead" || contacts[2].ExternalID != "" {
		t.Fatalf("contacts = %+v", contacts)
	}
	if string(contacts[0].CustomAttributes) != `{"dynamics_contact_id":"c1"}` {
		t.Errorf("custom_attributes = %s", contacts[0].CustomAttributes)
	}
	parts, err := readParts(ctx, db, "inc1")
	if err != nil || len(parts) != 3 || parts[2].MessageType != "note" {
		t.Fatalf("parts = %+v, %v", parts, err)
	}
	admins, teams, err := referencedPeople(ctx, db)
	if err != nil || strings.Join(admins, ",") != "a1" || strings.Join(teams, ",") != "q1" {
		t.Fatalf("referenced = %v %v %v", admins, teams, err)
	}
	if _, err := db.Exec("create table stage.x (a int)"); err == nil {
		t.Error("staging opened writable")
	}
}
