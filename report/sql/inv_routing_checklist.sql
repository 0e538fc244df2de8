-- Routing inventory, checklist: the teams and admins replay must find in
-- Intercom before it moves conversations: those staged conversations and
-- parts reference (the same set replay checks before conversations).
with referenced as (
    select 'team' as kind, team_source_id as source_id, count(*) as conversations
    from {{conversations}} where team_source_id is not null group by all
    union all
    select 'admin', admin_source_id, count(distinct conversation_source_id)
    from (
        select admin_source_id, source_id as conversation_source_id from {{conversations}}
        union
        select admin_source_id, conversation_source_id from {{conversation_parts}} where author_type = 'admin'
    )
    where admin_source_id is not null
    group by all
)
select
    r.kind,
    r.source_id,
    coalesce(t.name, a.name) as name,
    a.email,
    cast(r.conversations as varchar) as conversations
from referenced r
left join {{teams}} t on r.kind = 'team' and t.source_id = r.source_id
left join {{admins}} a on r.kind = 'admin' and a.source_id = r.source_id
order by r.kind desc, lower(coalesce(t.name, a.name)), r.source_id;
