-- Builds stage.conversation_parts from part_candidates (emails from
-- 50_conversation_parts.sql, activity notes from 55_activity_notes.sql, and
-- any later step that inserts into it): part_order runs 1.. within each
-- conversation by time, so replay posts them in the order they happened.
--
-- The order is worked out on the keys alone and the bodies joined in after:
-- sorting a million rows with their HTML bodies twice (window, then ord)
-- was the costly part of this step.
create or replace temp table part_ord as
with ordered as (
    select
        source_table,
        source_id,
        conversation_ord,
        row_number() over (partition by conversation_source_id
            order by sent_at nulls last, source_table, source_id) as part_order
    from part_candidates
)
select
    source_table,
    source_id,
    cast(part_order as integer) as part_order,
    row_number() over (order by conversation_ord, part_order) as ord
from ordered;

create table stage.conversation_parts as
select
    p.source_table,
    p.source_id,
    p.conversation_source_id,
    o.part_order,
    p.author_type,
    p.contact_source_id,
    p.admin_source_id,
    p.message_type,
    p.body,
    unix_s(p.sent_at) as created_at,
    o.ord
from part_ord o
join part_candidates p using (source_table, source_id)
order by o.ord;
