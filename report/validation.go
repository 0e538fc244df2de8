package report

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// rejectColumns are what every rejects.<table> holds (contracts §2); context
// is optional and already a short excerpt, never a message body.
var rejectColumns = []string{"source_table varchar", "source_id varchar", "rule varchar", "reason varchar",
	"context varchar"}

var validationHeader = []string{"object", "source_table", "source_id", "rule", "reason", "context"}

// Validation lists every row transform rejected, grouped by object and rule,
// with the counts first: what an admin fixes in Dynamics (or accepts losing)
// before the final snapshot.
func Validation(ctx context.Context, db *sql.DB) (Doc, error) {
	doc := Doc{Name: "validation", Title: "Validation"}
	cat, err := readCatalog(ctx, db)
	if err != nil {
		return Doc{}, fmt.Errorf("validation: %w", err)
	}
	objects := cat.tablesIn("rejects")
	if len(objects) == 0 {
		doc.Summary = "No rejects tables: transform has not run on this database."
		doc.Markdown = "# Validation\n\nNone found in the staging database: it has no rejects tables.\n"
		doc.CSV = [][]string{validationHeader}
		return doc, nil
	}

	rows, err := queryStrings(ctx, db, "validation: read rejects", rejectsQuery(cat, objects))
	if err != nil {
		return Doc{}, err
	}
	groups := groupRejects(rows)
	doc.Summary = fmt.Sprintf("%d rows rejected under %d rules; each is listed with its reason.",
		len(rows), len(groups))
	doc.Markdown = validationMarkdown(groups, len(rows))
	doc.CSV = csvWithHeader(validationHeader, rows)
	return doc, nil
}

// rejectsQuery reads every rejects table as one relation, sorted so that
// the rows of one object and rule are adjacent.
func rejectsQuery(cat catalog, objects []string) string {
	parts := make([]string, len(objects))
	for i, o := range objects {
		parts[i] = fmt.Sprintf("select %s as object, * from %s", sqlLiteral(o),
			cat.subquery("rejects."+o, rejectColumns...))
	}
	return "select object, source_table, source_id, rule, reason, context from (\n" +
		strings.Join(parts, "\nunion all\n") + "\n) order by object, rule, reason, source_table, source_id"
}

// rejectGroup is the rows of one object, rule and reason.
type rejectGroup struct {
	object, rule, reason string
	rows                 [][]string
}

func groupRejects(rows [][]string) []rejectGroup {
	var out []rejectGroup
	for _, r := range rows {
		object, rule, reason := r[0], r[3], r[4]
		if n := len(out); n == 0 || out[n-1].object != object || out[n-1].rule != rule ||
			out[n-1].reason != reason {
			out = append(out, rejectGroup{object: object, rule: rule, reason: reason})
		}
		out[len(out)-1].rows = append(out[len(out)-1].rows, r)
	}
	return out
}

func validationMarkdown(groups []rejectGroup, total int) string {
	var b strings.Builder
	b.WriteString("# Validation\n\n")
	if total == 0 {
		b.WriteString("Transform rejected no rows.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "Transform rejected %d rows. None of them will reach Intercom: fix each in Dynamics "+
		"and snapshot again, or accept that it stays behind. Context is a short excerpt of the "+
		"field the rule looked at.\n\n", total)
	summary := make([][]string, len(groups))
	for i, g := range groups {
		summary[i] = []string{g.object, "`" + g.rule + "`", g.reason, strconv.Itoa(len(g.rows))}
	}
	writeMDTable(&b, []string{"object", "rule", "reason", "rows"}, summary)

	for _, g := range groups {
		fmt.Fprintf(&b, "\n## %s: %s (%d rows)\n\n%s\n\n", g.object, g.rule, len(g.rows), mdCell(g.reason))
		writeMDTable(&b, []string{"source table", "source id", "context"}, pickColumns(g.rows, 1, 2, 5))
	}
	return b.String()
}
