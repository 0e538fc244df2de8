-- Builds stage.conversations and rejects.conversations from incident_rows,
-- resolving contact, company, admin and team through contact_map,
-- account_rows, contact_rows, stage.companies, stage.admins, stage.teams and
-- queueitem_rows (queueitem rows are consumed, counted out of scope).

-- a default contact per account: its primary contact, else its oldest contact.
create or replace temp table account_contact as
with any_contact as (
    select c._parentcustomerid_value as accountid,
        arg_min(m.survivor_id, (c.createdon, c.contactid)) as survivor_id
    from contact_rows c
    join contact_map m on m.contactid = c.contactid
    where c._parentcustomerid_value__lookuplogicalname = 'account'
    group by c._parentcustomerid_value
)
select a.accountid, pm.survivor_id as primary_contact, ac.survivor_id as any_contact
from account_rows a
left join contact_map pm
    on pm.contactid = a._primarycontactid_value
    and a._primarycontactid_value__lookuplogicalname is distinct from 'account'
left join any_contact ac on ac.accountid = a.accountid;

-- the queue a case was last routed to, when queue items were snapshotted.
create or replace temp table case_queue as
select qi._objectid_value as incidentid,
    arg_max(t.source_id, (qi.statecode = 0, qi.enteredon, qi.createdon, qi.queueitemid)) as team_source_id
from queueitem_rows qi
join stage.teams t on t.source_id = qi._queueid_value
where qi._objectid_value__lookuplogicalname = 'incident'
group by qi._objectid_value;

insert into reports.out_of_scope
select 'queueitem', queueitemid, 'consumed as case routing (team of the conversation)'
from queueitem_rows
order by queueitemid;

create or replace temp table case_resolved as
select
    i.*,
    case when i._customerid_value__lookuplogicalname = 'account' then i._customerid_value end
        as customer_account,
    coalesce(cm.survivor_id, pm.survivor_id, ac.primary_contact, ac.any_contact) as contact_source_id,
    case
        when cm.survivor_id is not null then null
        when pm.survivor_id is not null then 'contact from the case primarycontactid'
        when ac.primary_contact is not null then 'contact from the account primarycontactid'
        when ac.any_contact is not null then 'contact: oldest contact of the account'
    end as contact_note,
    case
        when i.statecode = 0 and i.statuscode in (2, 3) then 'snoozed'
        when i.statecode = 0 then 'open'
        when i.statecode in (1, 2) then 'closed'
    end as state
from incident_rows i
left join contact_map cm
    on cm.contactid = i._customerid_value and i._customerid_value__lookuplogicalname = 'contact'
left join contact_map pm
    on pm.contactid = i._primarycontactid_value
left join account_contact ac
    on ac.accountid = i._customerid_value and i._customerid_value__lookuplogicalname = 'account';

create or replace temp table case_fate as
select
    r.*,
    case
        when r.contact_source_id is null then 'no_contact'
        when r.state is null then 'unknown_state'
    end as fate
from case_resolved r;

create table stage.conversations as
select
    'incident' as source_table,
    f.incidentid as source_id,
    f.contact_source_id,
    coalesce(co.company_id, sc.company_source_id) as company_source_id,
    ad.source_id as admin_source_id,
    q.team_source_id,
    coalesce(nullif(trim(f.title), ''), f.ticketnumber) as title,
    coalesce(nullif(body_html(f.description), ''), text_to_html(coalesce(f.title, f.ticketnumber))) as body,
    unix_s(f.createdon) as created_at,
    unix_s(coalesce(f.modifiedon, f.createdon)) as updated_at,
    f.state,
    case when f.state = 'snoozed' then unix_s(f.followupby) end as snoozed_until,
    case when f.state = 'closed' then unix_s(coalesce(f.modifiedon, f.createdon)) end as closed_at,
    json_object(
        'dynamics_case_id', f.incidentid,
        'dynamics_case_number', f.ticketnumber,
        'dynamics_priority', f.prioritycode__label,
        'dynamics_status', f.statuscode__label,
        'dynamics_state', f.statecode__label
    ) as custom_attributes,
    row_number() over (order by f.createdon nulls last, f.incidentid) as ord
from case_fate f
join stage.contacts sc on sc.source_id = f.contact_source_id
left join stage.companies co on co.company_id = f.customer_account
left join stage.admins ad
    on ad.source_id = f._ownerid_value and f._ownerid_value__lookuplogicalname = 'systemuser'
left join case_queue q on q.incidentid = f.incidentid
where f.fate is null
order by ord;

insert into reports.notes
select 'conversations', 'incident', incidentid, contact_note
from case_fate
where fate is null and contact_note is not null
order by incidentid;

create table rejects.conversations as
select
    'incident' as source_table,
    incidentid as source_id,
    fate as rule,
    case fate
        when 'no_contact' then 'case customer has no contact: not a known contact, and its account has none'
        else 'statecode is not 0 Active, 1 Resolved or 2 Cancelled'
    end as reason,
    _customerid_value__lookuplogicalname || ':' || _customerid_value as context
from case_fate
where fate is not null
order by incidentid;
