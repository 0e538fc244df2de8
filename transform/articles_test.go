package transform

import (
	"maps"
	"strings"
	"testing"
)

// knowledgeTables is the knowledge-base fixture: languages, a category tree
// five levels deep with a nameless branch, a cycle, an orphan and twin
// names, and articles with versions, translations, hostile HTML and every
// state. It joins sampleTables, whose u1 is the staged admin.
func knowledgeTables() map[string]fixtureTable {
	return map[string]fixtureTable{
		"languagelocale": {
			schema: "languagelocaleid varchar, code varchar, name varchar, language varchar, localeid integer, " +
				"statecode integer, statecode__label varchar, modifiedon timestamptz",
			rows: []string{
				"('ll-en', 'en-US', 'English (United States)', 'English', 1033, 0, 'Active', null)",
				"('ll-de', 'de-DE', 'German (Germany)', 'German', 1031, 0, 'Active', null)",
				"('ll-pt', 'pt-BR', 'Portuguese (Brazil)', 'Portuguese', 1046, 0, 'Active', null)",
				"('ll-xx', 'tlh-KL', 'Klingon', 'Klingon', 9999, 1, 'Inactive', null)", // no Intercom locale
			},
		},
		"category": {
			schema: "categoryid varchar, title varchar, description varchar, categorynumber varchar, " +
				lk("parentcategoryid") + ", sequencenumber integer, " + lk("ownerid") +
				", createdon timestamptz, modifiedon timestamptz",
			rows: []string{
				"('cat-a', 'Billing', 'Money matters', 'CAT-A', null, null, null, 1, 'u1', 'systemuser', 'Agent One', '2019-01-01 00:00:00+00', null)",
				"('cat-b', 'Invoices', '', 'CAT-B', 'cat-a', 'category', 'Billing', 1, null, null, null, '2019-01-01 00:00:00+00', null)",
				"('cat-c', 'How-to', null, 'CAT-C', 'cat-b', 'category', 'Invoices', 1, null, null, null, '2019-01-01 00:00:00+00', null)",
				// levels 4 and 5: flattened into level 3
				"('cat-d', 'Advanced', null, 'CAT-D', 'cat-c', 'category', 'How-to', 1, null, null, null, '2019-01-01 00:00:00+00', null)",
				"('cat-e', 'Expert', null, 'CAT-E', 'cat-d', 'category', 'Advanced', 1, null, null, null, '2019-01-01 00:00:00+00', null)",
				// nameless, and its child
				"('cat-f', '  ', null, 'CAT-F', 'cat-a', 'category', 'Billing', 1, null, null, null, '2019-01-01 00:00:00+00', null)",
				"('cat-g', 'Child of nameless', null, 'CAT-G', 'cat-f', 'category', '', 1, null, null, null, '2019-01-01 00:00:00+00', null)",
				// a parent cycle
				"('cat-h', 'Loop one', null, 'CAT-H', 'cat-i', 'category', 'Loop two', 1, null, null, null, '2019-01-01 00:00:00+00', null)",
				"('cat-i', 'Loop two', null, 'CAT-I', 'cat-h', 'category', 'Loop one', 1, null, null, null, '2019-01-01 00:00:00+00', null)",
				// parent not snapshotted: top level
				"('cat-j', 'Orphan', null, 'CAT-J', 'cat-gone', 'category', 'Gone', 2, null, null, null, '2019-01-01 00:00:00+00', null)",
				// same name as cat-b under the same parent
				"('cat-k', 'Invoices', null, 'CAT-2', 'cat-a', 'category', 'Billing', 2, null, null, null, '2019-01-01 00:00:00+00', null)",
			},
		},
		"knowledgearticle": {
			schema: "knowledgearticleid varchar, title varchar, content varchar, description varchar, " +
				"articlepublicnumber varchar, statecode integer, statecode__label varchar, " + lk("languagelocaleid") +
				", " + lk("rootarticleid") + ", isrootarticle boolean, islatestversion boolean, isprimary boolean, " +
				"isinternal boolean, majorversionnumber integer, minorversionnumber integer, " + lk("primaryauthorid") +
				", " + lk("ownerid") + ", " + lk("createdby") + ", createdon timestamptz, modifiedon timestamptz",
			rows: []string{
				// topic 1: a root, two English versions, German and Portuguese translations
				`('ka-r1', 'Reset password', null, null, 'KA-1', 0, 'Draft', 'll-en', 'languagelocale', 'English', null, null, null,
				  true, false, false, false, 1, 0, 'u1', 'systemuser', 'Agent One', 'u1', 'systemuser', 'Agent One', null, null, null, '2020-01-01 00:00:00+00', null)`,
				`('ka-1v1', 'Reset password', '<p>old</p>', null, 'KA-1', 5, 'Archived', 'll-en', 'languagelocale', 'English', 'ka-r1', 'knowledgearticle', 'Reset password',
				  false, false, true, false, 1, 0, 'u1', 'systemuser', 'Agent One', 'u1', 'systemuser', 'Agent One', null, null, null, '2020-01-01 12:00:00+00', null)`,
				`('ka-1v2', ' Reset password ', '<div><h3>Steps</h3><ol><li onclick="x()">Open <a href="javascript:alert(1)">settings</a></li></ol>` +
					`<script>steal()</script><img src="data:image/png;base64,AA"></div>', 'How to reset', 'KA-1', 3, 'Published',
				  'll-en', 'languagelocale', 'English', 'ka-r1', 'knowledgearticle', 'Reset password',
				  false, true, true, false, 2, 0, 'u1', 'systemuser', 'Agent One', 'u2', 'systemuser', 'No Mail', null, null, null, '2020-01-02 00:00:00+00', '2020-02-02 00:00:00+00')`,
				`('ka-1de', 'Passwort zurücksetzen', 'Schritt eins', null, 'KA-1', 3, 'Published', 'll-de', 'languagelocale', 'German', 'ka-r1', 'knowledgearticle', 'Reset password',
				  false, true, false, false, 2, 0, 'u1', 'systemuser', 'Agent One', 'u1', 'systemuser', 'Agent One', null, null, null, '2020-01-03 00:00:00+00', null)`,
				`('ka-1pt', 'Redefinir senha', '<p>Passo</p>', null, 'KA-1', 5, 'Archived', 'll-pt', 'languagelocale', 'Portuguese', 'ka-r1', 'knowledgearticle', 'Reset password',
				  false, true, false, false, 2, 0, null, null, null, 'u1', 'systemuser', 'Agent One', null, null, null, '2020-01-04 00:00:00+00', null)`,
				// topic 2: German only, internal; the owner is not migrated, the creator is
				`('ka-r2', 'Intern', null, null, 'KA-2', 0, 'Draft', 'll-de', 'languagelocale', 'German', null, null, null,
				  true, false, false, false, 1, 0, null, null, null, null, null, null, null, null, null, '2020-02-01 00:00:00+00', null)`,
				`('ka-2de', 'Intern', '<p>Nur intern</p>', null, 'KA-2', 3, 'Published', 'll-de', 'languagelocale', 'German', 'ka-r2', 'knowledgearticle', 'Intern',
				  false, true, true, true, 1, 0, null, null, null, 'u2', 'systemuser', 'No Mail', 'u1', 'systemuser', 'Agent One', '2020-02-01 00:00:00+00', null)`,
				// rejects: no title, a language Intercom lacks, no language
				`('ka-3', '  ', '<p>x</p>', null, 'KA-3', 0, 'Draft', 'll-en', 'languagelocale', 'English', null, null, null,
				  false, true, true, false, 1, 0, null, null, null, null, null, null, null, null, null, '2020-03-01 00:00:00+00', null)`,
				`('ka-4', 'Klingon', '<p>x</p>', null, 'KA-4', 3, 'Published', 'll-xx', 'languagelocale', 'Klingon', null, null, null,
				  false, true, true, false, 1, 0, null, null, null, null, null, null, null, null, null, '2020-03-01 00:00:00+00', null)`,
				`('ka-5', 'No language', '<p>x</p>', null, 'KA-5', 3, 'Published', null, null, null, null, null, null,
				  false, true, true, false, 1, 0, null, null, null, null, null, null, null, null, null, '2020-03-01 00:00:00+00', null)`,
				// discarded
				`('ka-6', 'Discarded', '<p>x</p>', null, 'KA-6', 6, 'Discarded', 'll-en', 'languagelocale', 'English', null, null, null,
				  false, true, true, false, 1, 0, null, null, null, null, null, null, null, null, null, '2020-03-01 00:00:00+00', null)`,
				// expired, owned by a team: no author, replay uses the token's admin
				`('ka-7', 'Old promo', 'Promo text', null, 'KA-7', 4, 'Expired', 'll-en', 'languagelocale', 'English', null, null, null,
				  false, true, true, false, 1, 0, null, null, null, 't1', 'team', 'Team', null, null, null, '2020-03-01 00:00:00+00', null)`,
				`('ka-8', 'Billing FAQ', '<p>Pay <b>now</b></p><p onmouseover="x()">Thanks</p>', 'FAQ', 'KA-8', 3, 'Published', 'll-en', 'languagelocale', 'English', null, null, null,
				  false, true, true, false, 1, 0, 'u1', 'systemuser', 'Agent One', null, null, null, null, null, null, '2020-04-01 00:00:00+00', null)`,
			},
		},
		"knowledgearticlescategories": {
			schema: "knowledgearticlescategoryid varchar, knowledgearticleid varchar, categoryid varchar",
			rows: []string{
				"('l1', 'ka-1v2', 'cat-c')",     // level 3: not the deepest of topic 1
				"('l2', 'ka-1de', 'cat-e')",     // level 5 (flattened): topic 1's collection
				"('l3', 'ka-1v1', 'cat-b')",     // an old version's link still counts for the topic
				"('l4', 'ka-2de', 'cat-g')",     // a rejected category
				"('l5', 'ka-6', 'cat-a')",       // a discarded article
				"('l6', 'ka-8', 'cat-j')",       // the orphan collection
				"('l7', 'ka-missing', 'cat-a')", // an article not in the snapshot
			},
		},
	}
}

func withKnowledge() map[string]fixtureTable {
	tables := sampleTables()
	maps.Copy(tables, knowledgeTables())
	maps.Copy(tables, emptyAttachmentTables())
	return tables
}

func TestRunStagesKnowledgeBase(t *testing.T) {
	dbPath, _, err := runFixture(t, withKnowledge())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, query string
		want        []string
	}{
		{"collections", "select * from stage.collections order by ord", []string{
			"category|cat-a|Billing|Money matters|NULL|1|1",
			"category|cat-j|Orphan|NULL|NULL|1|2",
			"category|cat-b|Invoices|NULL|cat-a|2|3",
			"category|cat-k|Invoices (CAT-2)|NULL|cat-a|2|4",
			"category|cat-c|How-to|NULL|cat-b|3|5",
			"category|cat-d|How-to / Advanced|NULL|cat-b|3|6",
			"category|cat-e|How-to / Advanced / Expert|NULL|cat-b|3|7",
		}},
		{"collection rejects", "select source_id, rule from rejects.collections order by source_id", []string{
			"cat-f|missing_name", "cat-g|parent_rejected", "cat-h|category_cycle", "cat-i|category_cycle",
		}},
		{"articles", "select source_id, article_source_id, role, locale, help_center_locale, title, description, body, " +
			"state, author_source_id, collection_source_id, created_at, updated_at, ord from stage.articles order by ord", []string{
			"ka-1v2|ka-1v2|article|en|en|Reset password|How to reset|<h2>Steps</h2><ol><li>Open settings</li></ol>|" +
				"published|u1|cat-e|1577923200|1580601600|1",
			"ka-1de|ka-1v2|translation|de|en|Passwort zurücksetzen|NULL|<p>Schritt eins</p>|published|u1|cat-e|1578009600|NULL|2",
			"ka-1pt|ka-1v2|translation|pt-BR|en|Redefinir senha|NULL|<p>Passo</p>|draft|u1|cat-e|1578096000|NULL|3",
			// German only: it creates the article although the help center is English
			"ka-2de|ka-2de|article|de|en|Intern|NULL|<p>Nur intern</p>|draft|u1|NULL|1580515200|NULL|4",
			"ka-7|ka-7|article|en|en|Old promo|NULL|<p>Promo text</p>|draft|NULL|NULL|1583020800|NULL|5",
			"ka-8|ka-8|article|en|en|Billing FAQ|FAQ|<p>Pay <b>now</b></p><p>Thanks</p>|published|u1|cat-j|1585699200|NULL|6",
		}},
		{"article rejects", "select source_id, rule, reason from rejects.articles order by source_id", []string{
			"ka-3|missing_title|article has no title; Intercom requires one",
			"ka-4|unsupported_locale|language Klingon is not a locale Intercom articles take",
			"ka-5|no_locale|article has no language (languagelocaleid)",
		}},
		{"out of scope", "select source_table, source_id, reason from reports.out_of_scope where source_table in " +
			"('knowledgearticle', 'knowledgearticlescategories') order by all", []string{
			"knowledgearticle|ka-1v1|superseded version",
			"knowledgearticle|ka-6|discarded article",
			"knowledgearticle|ka-r1|root article: groups the versions and translations, holds no content of its own",
			"knowledgearticle|ka-r2|root article: groups the versions and translations, holds no content of its own",
			"knowledgearticlescategories|l1|article already placed in another collection (an Intercom article has one)",
			"knowledgearticlescategories|l2|consumed: places the article in its collection",
			"knowledgearticlescategories|l3|article already placed in another collection (an Intercom article has one)",
			"knowledgearticlescategories|l4|link to a category not migrated",
			"knowledgearticlescategories|l5|link of an article not migrated",
			"knowledgearticlescategories|l6|consumed: places the article in its collection",
			"knowledgearticlescategories|l7|link of an article not migrated",
		}},
		{"notes", "select object, source_id, note from reports.notes where object in ('collections', 'articles') " +
			"order by all", []string{
			"articles|ka-1pt|archived in Dynamics: a draft in Intercom (no archived state)",
			"articles|ka-2de|internal-only article: kept as a draft so that it is not public",
			"articles|ka-7|expired in Dynamics: a draft in Intercom (no expired state)",
			`collections|cat-d|category nested 4 levels deep: flattened into collection "How-to / Advanced" at level 3`,
			`collections|cat-e|category nested 5 levels deep: flattened into collection "How-to / Advanced / Expert" at level 3`,
			"collections|cat-j|parent category not in the snapshot: a top-level collection",
		}},
		{"reconciliation", "select object, source_table, snapshot_rows, staged, rejected, out_of_scope, conserved " +
			"from reports.reconciliation where object in ('article_locales', 'collections', 'articles', " +
			"'article_collections') order by ord", []string{
			"article_locales|languagelocale|4|0|0|4|true",
			"collections|category|11|7|4|0|true",
			"articles|knowledgearticle|13|6|3|4|true",
			"article_collections|knowledgearticlescategories|7|0|0|7|true",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertRows(t, dbPath, tt.query, tt.want) })
	}
}

// Replay reads these columns by name and order (docs/contracts.md §2).
func TestKnowledgeStageMatchesContract(t *testing.T) {
	dbPath, _, err := runFixture(t, withKnowledge())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"collections": "source_table varchar, source_id varchar, name varchar, description varchar, " +
			"parent_source_id varchar, depth integer, ord bigint",
		"articles": "source_table varchar, source_id varchar, article_source_id varchar, role varchar, " +
			"locale varchar, help_center_locale varchar, title varchar, description varchar, body varchar, " +
			"state varchar, author_source_id varchar, collection_source_id varchar, created_at bigint, " +
			"updated_at bigint, ord bigint",
	}
	for table, cols := range want {
		got := queryRows(t, dbPath, "select column_name || ' ' || lower(data_type) from duckdb_columns() "+
			"where schema_name = 'stage' and table_name = '"+table+"' order by column_index")
		if g := strings.Join(got, ", "); g != cols {
			t.Errorf("stage.%s\n got: %s\nwant: %s", table, g, cols)
		}
		rej := queryRows(t, dbPath, "select string_agg(column_name, ',' order by column_index) from duckdb_columns() "+
			"where schema_name = 'rejects' and table_name = '"+table+"'")
		if len(rej) != 1 || rej[0] != "source_table,source_id,rule,reason,context" {
			t.Errorf("rejects.%s columns = %v", table, rej)
		}
	}
}
