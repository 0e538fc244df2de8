-- Builds temp tables <table>_rows from <table>_in (src.<table> narrowed to
-- the columns the later steps read): one row per primary key, the latest
-- modifiedon winning and ties broken by the row's hash, so reruns pick the
-- same copy. Extra copies of a key (paging drift) and rows without a key are
-- recorded in reports.out_of_scope, which keeps conservation exact.

create or replace temp table systemuser_rows as
select s.*
from systemuser_in s
where s.systemuserid is not null
qualify row_number() over (partition by s.systemuserid order by s.modifiedon desc nulls last, hash(s)) = 1;

insert into reports.out_of_scope
select 'systemuser', systemuserid, case when systemuserid is null then 'row without systemuserid'
    else 'duplicate systemuserid in the snapshot: one copy kept' end
from (
    select s.systemuserid, row_number() over (partition by s.systemuserid) as copy
    from systemuser_in s
)
where systemuserid is null or copy > 1
order by systemuserid;

create or replace temp table queue_rows as
select s.*
from queue_in s
where s.queueid is not null
qualify row_number() over (partition by s.queueid order by s.modifiedon desc nulls last, hash(s)) = 1;

insert into reports.out_of_scope
select 'queue', queueid, case when queueid is null then 'row without queueid'
    else 'duplicate queueid in the snapshot: one copy kept' end
from (
    select s.queueid, row_number() over (partition by s.queueid) as copy
    from queue_in s
)
where queueid is null or copy > 1
order by queueid;

create or replace temp table account_rows as
select s.*
from account_in s
where s.accountid is not null
qualify row_number() over (partition by s.accountid order by s.modifiedon desc nulls last, hash(s)) = 1;

insert into reports.out_of_scope
select 'account', accountid, case when accountid is null then 'row without accountid'
    else 'duplicate accountid in the snapshot: one copy kept' end
from (
    select s.accountid, row_number() over (partition by s.accountid) as copy
    from account_in s
)
where accountid is null or copy > 1
order by accountid;

create or replace temp table contact_rows as
select s.*
from contact_in s
where s.contactid is not null
qualify row_number() over (partition by s.contactid order by s.modifiedon desc nulls last, hash(s)) = 1;

insert into reports.out_of_scope
select 'contact', contactid, case when contactid is null then 'row without contactid'
    else 'duplicate contactid in the snapshot: one copy kept' end
from (
    select s.contactid, row_number() over (partition by s.contactid) as copy
    from contact_in s
)
where contactid is null or copy > 1
order by contactid;

create or replace temp table incident_rows as
select s.*
from incident_in s
where s.incidentid is not null
qualify row_number() over (partition by s.incidentid order by s.modifiedon desc nulls last, hash(s)) = 1;

insert into reports.out_of_scope
select 'incident', incidentid, case when incidentid is null then 'row without incidentid'
    else 'duplicate incidentid in the snapshot: one copy kept' end
from (
    select s.incidentid, row_number() over (partition by s.incidentid) as copy
    from incident_in s
)
where incidentid is null or copy > 1
order by incidentid;

create or replace temp table email_rows as
select s.*
from email_in s
where s.activityid is not null
qualify row_number() over (partition by s.activityid order by s.modifiedon desc nulls last, hash(s)) = 1;

insert into reports.out_of_scope
select 'email', activityid, case when activityid is null then 'row without activityid'
    else 'duplicate activityid in the snapshot: one copy kept' end
from (
    select s.activityid, row_number() over (partition by s.activityid) as copy
    from email_in s
)
where activityid is null or copy > 1
order by activityid;

create or replace temp table activityparty_rows as
select s.*
from activityparty_in s
where s.activitypartyid is not null
qualify row_number() over (partition by s.activitypartyid order by s.modifiedon desc nulls last, hash(s)) = 1;

insert into reports.out_of_scope
select 'activityparty', activitypartyid, case when activitypartyid is null then 'row without activitypartyid'
    else 'duplicate activitypartyid in the snapshot: one copy kept' end
from (
    select s.activitypartyid, row_number() over (partition by s.activitypartyid) as copy
    from activityparty_in s
)
where activitypartyid is null or copy > 1
order by activitypartyid;

create or replace temp table queueitem_rows as
select s.*
from queueitem_in s
where s.queueitemid is not null
qualify row_number() over (partition by s.queueitemid order by s.modifiedon desc nulls last, hash(s)) = 1;

insert into reports.out_of_scope
select 'queueitem', queueitemid, case when queueitemid is null then 'row without queueitemid'
    else 'duplicate queueitemid in the snapshot: one copy kept' end
from (
    select s.queueitemid, row_number() over (partition by s.queueitemid) as copy
    from queueitem_in s
)
where queueitemid is null or copy > 1
order by queueitemid;
