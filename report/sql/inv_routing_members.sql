-- Routing inventory, members: who works each queue, directly (queue
-- membership) or through the Dynamics team that owns the queue, and whether
-- that user was staged as an admin (matched by e-mail at replay).
with members as (
    select queueid, systemuserid, 'queue member' as via from {{queuemembership}}
    union
    select t._queueid_value, m.systemuserid, 'team ' || t.name
    from {{teammembership}} m
    join {{team}} t on t.teamid = m.teamid
    where t._queueid_value is not null
),
member_of as (
    select queueid, systemuserid, string_agg(via, '; ' order by via) as via
    from members
    group by queueid, systemuserid
)
select
    coalesce(q.name, m.queueid) as queue,
    m.queueid,
    m.systemuserid,
    u.fullname,
    lower(trim(u.internalemailaddress)) as email,
    m.via,
    case
        when u.systemuserid is null then 'user not in the snapshot'
        when a.source_id is not null then 'staged as admin; to be matched at replay by e-mail'
        when r.source_id is not null then 'rejected: ' || r.reason
        when o.source_id is not null then 'out of scope: ' || o.reason
        else 'not staged'
    end as intercom
from member_of m
left join {{queue}} q on q.queueid = m.queueid
left join {{systemuser}} u on u.systemuserid = m.systemuserid
left join {{admins}} a on a.source_id = m.systemuserid
left join {{rejected_admins}} r on r.source_id = m.systemuserid
left join {{out_of_scope}} o on o.source_table = 'systemuser' and o.source_id = m.systemuserid
order by lower(coalesce(q.name, m.queueid)), m.queueid, lower(u.fullname), m.systemuserid;
