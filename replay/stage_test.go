package replay

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// stageDDL is the stage schema of contracts.md §2.
const stageDDL = `
create schema stage;
create table stage.admins (source_table varchar, source_id varchar, email varchar, name varchar, ord bigint);
create table stage.teams (source_table varchar, source_id varchar, name varchar, ord bigint);
create table stage.data_attributes (model varchar, name varchar, data_type varchar,
  description varchar, source_table varchar, source_id varchar, ord bigint);
create table stage.companies (source_table varchar, source_id varchar, company_id varchar,
  name varchar, website varchar, industry varchar, remote_created_at bigint, custom_attributes json, ord bigint);
create table stage.contacts (source_table varchar, source_id varchar, role varchar, external_id varchar,
  email varchar, name varchar, phone varchar, signed_up_at bigint, company_source_id varchar,
  merged_source_ids varchar[], custom_attributes json, ord bigint);
create table stage.conversations (source_table varchar, source_id varchar, contact_source_id varchar,
  company_source_id varchar, admin_source_id varchar, team_source_id varchar, title varchar, body varchar,
  created_at bigint, updated_at bigint, state varchar, snoozed_until bigint, closed_at bigint,
  custom_attributes json, ord bigint);
create table stage.conversation_parts (source_table varchar, source_id varchar,
  conversation_source_id varchar, part_order integer, author_type varchar, contact_source_id varchar,
  admin_source_id varchar, message_type varchar, body varchar, created_at bigint, ord bigint);
`

// stageRows is a small staging set: two companies, two users and a lead,
// three conversations (closed with an owner and team, open from the lead,
// snoozed) and their parts.
const stageRows = `
insert into stage.admins values ('systemuser','a1','agent@example.com','Agent One',1);
insert into stage.teams values ('queue','q1','Support',1);
insert into stage.data_attributes values
  ('contact','dynamics_contact_id','string','Dataverse contactid','contact','contactid',1),
  ('company','dynamics_account_id','string','Dataverse accountid','account','accountid',2),
  ('conversation','dynamics_case_id','string','Dataverse incidentid','incident','incidentid',3),
  ('conversation','dynamics_priority','string','Dataverse priority','incident','prioritycode',4);
insert into stage.companies values
  ('account','acc1','acc1','Contoso','contoso.example','Retail',1500000000,'{"dynamics_account_id":"acc1"}',1),
  ('account','acc2','acc2','Fabrikam',null,null,null,'{"dynamics_account_id":"acc2"}',2);
insert into stage.contacts values
  ('contact','c1','user','c1','ana@example.com','Ana','+1 555 0100',1550000000,'acc1',[],'{"dynamics_contact_id":"c1"}',1),
  ('contact','c2','user','c2','bo@example.com','Bo',null,null,'acc2',['c9'],'{"dynamics_contact_id":"c2"}',2),
  ('contact','c3','lead',null,null,'Visitor',null,null,null,[],'{"dynamics_contact_id":"c3"}',3);
insert into stage.conversations values
  ('incident','inc1','c1','acc1','a1','q1','Printer on fire','<p>My printer is on fire &amp; smoking</p>',
   1600000000,1600009000,'closed',null,1600009000,'{"dynamics_case_id":"inc1","dynamics_priority":"High"}',1),
  ('incident','inc2','c3',null,null,null,'Question','<p>Do you ship abroad?</p>',
   1600100000,1600100000,'open',null,null,'{"dynamics_case_id":"inc2"}',2),
  ('incident','inc3','c2','acc2','a1',null,'Later','<p>Call me next year</p>',
   1600200000,1600200000,'snoozed',4102444800,null,'{"dynamics_case_id":"inc3"}',3);
insert into stage.conversation_parts values
  ('email','p1','inc1',1,'admin',null,'a1','comment','<p>We are on it.</p>',1600001000,1),
  ('email','p2','inc1',2,'contact','c1',null,'comment','<p>Thanks!</p>',1600002000,2),
  ('email','p3','inc1',3,'admin',null,'a1','note','<p>Replaced the fuser.</p>',1600003000,3),
  ('email','p4','inc2',1,'contact','c3',null,'comment','<p>Anyone?</p>',1600101000,4),
  ('email','p5','inc2',2,'admin',null,'a1','comment','<p>Yes, we do.</p>',1600102000,5),
  ('email','p6','inc3',1,'admin',null,'a1','comment','<p>Noted.</p>',1600201000,6);
`

// writeStage creates a staging DuckDB file from DDL and rows and closes it.
func writeStage(t *testing.T, rows string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "staging.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stageDDL + rows); err != nil {
		t.Fatalf("create staging: %v", err)
	}
	return path
}

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
