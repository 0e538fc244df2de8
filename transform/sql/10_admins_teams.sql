-- Builds stage.admins and rejects.admins from systemuser_rows, and stage.teams
-- and rejects.teams from queue_rows. Both are matched (not created) in Intercom.
create or replace temp table systemuser_fate as
select
    s.*,
    lower(trim(s.internalemailaddress)) as email,
    case
        when s.applicationid is not null or s.accessmode = 4 then 'out_of_scope'
        when blank(s.internalemailaddress) then 'no_email'
        when not is_email(s.internalemailaddress) then 'invalid_email'
    end as fate
from systemuser_rows s;

create table stage.admins as
select
    'systemuser' as source_table,
    systemuserid as source_id,
    email,
    coalesce(
        nullif(trim(fullname), ''), nullif(trim(concat_ws(' ', firstname, lastname)), ''), email
    ) as name,
    row_number() over (order by systemuserid) as ord
from systemuser_fate
where fate is null
order by ord;

create table rejects.admins as
select
    'systemuser' as source_table,
    systemuserid as source_id,
    fate as rule,
    case fate
        when 'no_email' then 'system user has no internalemailaddress to match an Intercom admin'
        else 'internalemailaddress is not a usable email address'
    end as reason,
    internalemailaddress as context
from systemuser_fate
where fate in ('no_email', 'invalid_email')
order by systemuserid;

insert into reports.out_of_scope
select 'systemuser', systemuserid, 'application or non-interactive user, not an agent'
from systemuser_fate
where fate = 'out_of_scope'
order by systemuserid;

create or replace temp table queue_fate as
select
    q.*,
    case
        when q.queueviewtype = 1 then 'out_of_scope'
        when blank(q.name) then 'missing_name'
    end as fate
from queue_rows q;

create table stage.teams as
select
    'queue' as source_table,
    queueid as source_id,
    trim(name) as name,
    row_number() over (order by queueid) as ord
from queue_fate
where fate is null
order by ord;

create table rejects.teams as
select
    'queue' as source_table,
    queueid as source_id,
    fate as rule,
    'queue has no name to match an Intercom team' as reason
from queue_fate
where fate = 'missing_name'
order by queueid;

insert into reports.out_of_scope
select 'queue', queueid, 'private (personal) queue, not a team'
from queue_fate
where fate = 'out_of_scope'
order by queueid;
