-- Routing inventory, queues: every queue with its type and what transform
-- made of it (a staged team is matched to an Intercom team by name at replay).
select
    q.queueid,
    q.name,
    coalesce(q.queueviewtype__label, cast(q.queueviewtype as varchar)) as type,
    coalesce(q.statecode__label, cast(q.statecode as varchar)) as state,
    q.emailaddress,
    case
        when t.source_id is not null then 'staged as team "' || t.name || '"; to be matched at replay'
        when r.source_id is not null then 'rejected: ' || r.reason
        when o.source_id is not null then 'out of scope: ' || o.reason
        else 'not staged'
    end as intercom
from {{queue}} q
left join {{teams}} t on t.source_id = q.queueid
left join {{rejected_teams}} r on r.source_id = q.queueid
left join {{out_of_scope}} o on o.source_table = 'queue' and o.source_id = q.queueid
order by lower(q.name), q.queueid;
