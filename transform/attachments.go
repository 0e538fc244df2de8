package transform

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/d2i/d2i/transform/mapping"
)

// attachmentRuleHook hands the mapping's attachments rule (per-file cap and
// what happens above it) to sql/57_attachments.sql as temp table
// attachment_rule. It runs right after the schemas are built, before 57
// reads it; without a mapping 57 falls back to the proposed defaults.
func attachmentRuleHook(rule mapping.AttachmentRule) sqlHook {
	return sqlHook{after: "sql/00_schemas.sql", name: "mapping: attachment rule",
		run: func(ctx context.Context, conn *sql.Conn) error {
			_, err := conn.ExecContext(ctx, `create or replace temp table attachment_rule as
				select cast(? as bigint) as max_bytes, cast(? as varchar) as over_limit`,
				rule.MaxBytes, rule.OverLimit)
			if err != nil {
				return fmt.Errorf("attachments.max_bytes %d, over_limit %q: %w", rule.MaxBytes, rule.OverLimit, err)
			}
			return nil
		}}
}
