-- Builds stage.conversation_parts from part_candidates (emails from
-- 50_conversation_parts.sql, activity notes from 55_activity_notes.sql):
-- part_order runs 1.. within each conversation by time, so replay posts
-- them in the order they happened.
create table stage.conversation_parts as
with ordered as (
    select
        p.*,
        row_number() over (partition by p.conversation_source_id
            order by p.sent_at nulls last, p.source_table, p.source_id) as part_order
    from part_candidates p
)
select
    source_table,
    source_id,
    conversation_source_id,
    cast(part_order as integer) as part_order,
    author_type,
    contact_source_id,
    admin_source_id,
    message_type,
    body,
    unix_s(sent_at) as created_at,
    row_number() over (order by conversation_ord, part_order) as ord
from ordered
order by ord;
