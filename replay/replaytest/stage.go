// Package replaytest holds the small staging database replay's tests and
// the commands' tests share (contracts.md §2), so that both read one copy.
package replaytest

import (
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // the staging database is a DuckDB file
)

// StageDDL is the stage schema of contracts.md §2 that these tests use.
const StageDDL = `
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

// StageRows is a small staging set: two companies, two users and a lead,
// three conversations (closed with an owner and team, open from the lead,
// snoozed) and their parts.
const StageRows = `
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

// DeltaRows is StageRows as a delta transform would stage it: Ana renamed
// and Contoso's website changed, inc1 retitled with a new part, c2 and its
// conversation inc3 deleted in Dynamics (with the delete policy given),
// and a contact c4 new.
func DeltaRows(contactAction, conversationAction string) string {
	return `
insert into stage.admins values ('systemuser','a1','agent@example.com','Agent One',1);
insert into stage.teams values ('queue','q1','Support',1);
insert into stage.data_attributes values
  ('contact','dynamics_contact_id','string','Dataverse contactid','contact','contactid',1),
  ('company','dynamics_account_id','string','Dataverse accountid','account','accountid',2),
  ('conversation','dynamics_case_id','string','Dataverse incidentid','incident','incidentid',3),
  ('conversation','dynamics_priority','string','Dataverse priority','incident','prioritycode',4);
insert into stage.companies values
  ('account','acc1','acc1','Contoso','contoso.example.org','Retail',1500000000,'{"dynamics_account_id":"acc1"}',1),
  ('account','acc2','acc2','Fabrikam',null,null,null,'{"dynamics_account_id":"acc2"}',2);
insert into stage.contacts values
  ('contact','c1','user','c1','ana@example.com','Ana Lima','+1 555 0100',1550000000,'acc1',[],'{"dynamics_contact_id":"c1"}',1),
  ('contact','c3','lead',null,null,'Visitor',null,null,null,[],'{"dynamics_contact_id":"c3"}',3),
  ('contact','c4','user','c4','cy@example.com','Cy',null,null,null,[],'{"dynamics_contact_id":"c4"}',4);
insert into stage.conversations values
  ('incident','inc1','c1','acc1','a1','q1','Printer on fire (resolved)','<p>My printer is on fire &amp; smoking</p>',
   1600000000,1600009000,'closed',null,1600009000,'{"dynamics_case_id":"inc1","dynamics_priority":"High"}',1),
  ('incident','inc2','c3',null,null,null,'Question','<p>Do you ship abroad?</p>',
   1600100000,1600100000,'open',null,null,'{"dynamics_case_id":"inc2"}',2);
insert into stage.conversation_parts values
  ('email','p1','inc1',1,'admin',null,'a1','comment','<p>We are on it.</p>',1600001000,1),
  ('email','p2','inc1',2,'contact','c1',null,'comment','<p>Thanks!</p>',1600002000,2),
  ('email','p3','inc1',3,'admin',null,'a1','note','<p>Replaced the fuser.</p>',1600003000,3),
  ('email','p7','inc1',4,'admin',null,'a1','note','<p>Reopened and fixed again.</p>',1600004000,4),
  ('email','p4','inc2',1,'contact','c3',null,'comment','<p>Anyone?</p>',1600101000,5),
  ('email','p5','inc2',2,'admin',null,'a1','comment','<p>Yes, we do.</p>',1600102000,6);
create table stage.deletions (kind varchar, source_table varchar, source_id varchar, action varchar, ord bigint);
insert into stage.deletions values
  ('conversations','incident','inc3','` + conversationAction + `',1),
  ('contacts','contact','c2','` + contactAction + `',2),
  ('companies','account','acc9','delete',3);
`
}

// WriteStage creates a staging DuckDB file from StageDDL and rows and
// closes it.
func WriteStage(t testing.TB, rows string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "staging.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(StageDDL + rows); err != nil {
		t.Fatalf("create staging: %v", err)
	}
	return path
}
