-- Builds stage.conversations and rejects.conversations from incident_rows,
-- resolving contact, company, admin and team through contact_map,
-- account_rows, contact_rows, stage.companies, stage.admins, stage.teams and
-- queueitem_rows (queueitem rows are consumed, counted out of scope). The
-- case's entitlement and SLA timers (35_sla_entitlements.sql) become
-- conversation attributes, and every entitlement, entitlement channel, SLA,
-- SLA item and KPI instance row is recorded out of scope with what became of
-- it. Candidates are validated (15_validation.sql) before staging.

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
    coalesce(nullif(trim(r.title), ''), nullif(trim(r.ticketnumber), '')) as staged_title,
    coalesce(nullif(body_html(r.description), ''),
        nullif(text_to_html(coalesce(nullif(trim(r.title), ''), r.ticketnumber)), '')) as staged_body,
    case
        when r.contact_source_id is null and r._customerid_value__lookuplogicalname = 'contact'
            and r._customerid_value in (select source_id from rejects.contacts) then 'contact_rejected'
        when r.contact_source_id is null then 'no_contact'
        when r.state is null then 'unknown_state'
    end as fate
from case_resolved r;

update case_fate set fate = 'empty_body' where fate is null and staged_body is null;

insert into field_values
select 'conversation', incidentid, field, value, null, field = 'body'
from (unpivot (select incidentid, staged_title as title, staged_body as body from case_fate where fate is null)
      on title, body into name field value value);

insert into field_values
select 'conversation', incidentid, field, null, "at", false
from (unpivot (select incidentid, createdon, modifiedon from case_fate where fate is null)
      on createdon, modifiedon into name field value "at");

insert into reports.notes
select 'conversations', 'incident', f.incidentid,
    'parent case ' || f._parentcaseid_value || ' is not in the snapshot: dynamics_parent_case_number left empty'
from case_fate f
where f.fate is null and f._parentcaseid_value is not null
    and f._parentcaseid_value not in (select incidentid from incident_rows)
order by f.incidentid;

insert into attr_values
select 'conversation', incidentid, name, value
from (unpivot (
        select
            f.incidentid,
            to_json(f.incidentid) as dynamics_case_id,
            to_json(f.ticketnumber) as dynamics_case_number,
            to_json(f.prioritycode__label) as dynamics_priority,
            to_json(f.statuscode__label) as dynamics_status,
            to_json(f.statecode__label) as dynamics_state,
            to_json(f.caseorigincode__label) as dynamics_origin,
            to_json(f.casetypecode__label) as dynamics_case_type,
            to_json(p.ticketnumber) as dynamics_parent_case_number,
            to_json(e.name) as dynamics_entitlement,
            to_json(e.allocation) as dynamics_entitlement_allocation,
            to_json(e.total_terms) as dynamics_entitlement_total_terms,
            to_json(e.remaining_terms) as dynamics_entitlement_remaining_terms,
            to_json(e.channels) as dynamics_entitlement_channels,
            to_json(unix_s(e.start_at)) as dynamics_entitlement_start,
            to_json(unix_s(e.end_at)) as dynamics_entitlement_end,
            to_json(sl.sla_name) as dynamics_sla,
            to_json(sl.business_hours) as dynamics_sla_business_hours,
            to_json(unix_s(sl.first_response_by)) as dynamics_first_response_by,
            to_json(unix_s(sl.first_response_warning)) as dynamics_first_response_warning,
            to_json(sl.first_response_status) as dynamics_first_response_status,
            to_json(unix_s(sl.resolve_by)) as dynamics_resolve_by,
            to_json(unix_s(sl.resolve_by_warning)) as dynamics_resolve_by_warning,
            to_json(sl.resolve_by_status) as dynamics_resolve_by_status,
            to_json(sl.paused) as dynamics_sla_paused
        from case_fate f
        left join incident_rows p on p.incidentid = f._parentcaseid_value
        left join case_entitlement e on e.incidentid = f.incidentid
        left join case_sla sl on sl.incidentid = f.incidentid
        where f.fate is null)
      on columns(* exclude (incidentid)) into name name value value);

create or replace temp table conversation_violation as select * from violations('conversation');

create table stage.conversations as
with attrs as (
    select source_id, attrs_json(name, value) as custom_attributes
    from attr_values
    where model = 'conversation'
    group by source_id
)
select
    'incident' as source_table,
    f.incidentid as source_id,
    f.contact_source_id,
    coalesce(co.company_id, sc.company_source_id) as company_source_id,
    ad.source_id as admin_source_id,
    q.team_source_id,
    f.staged_title as title,
    f.staged_body as body,
    unix_s(f.createdon) as created_at,
    unix_s(coalesce(f.modifiedon, f.createdon)) as updated_at,
    f.state,
    case when f.state = 'snoozed' then unix_s(f.followupby) end as snoozed_until,
    case when f.state = 'closed' then unix_s(coalesce(f.modifiedon, f.createdon)) end as closed_at,
    a.custom_attributes,
    row_number() over (order by f.createdon nulls last, f.incidentid) as ord
from case_fate f
join stage.contacts sc on sc.source_id = f.contact_source_id
join attrs a on a.source_id = f.incidentid
left join stage.companies co on co.company_id = f.customer_account
left join stage.admins ad
    on ad.source_id = f._ownerid_value and f._ownerid_value__lookuplogicalname = 'systemuser'
left join case_queue q on q.incidentid = f.incidentid
where f.fate is null and f.incidentid not in (select source_id from conversation_violation)
order by ord;

insert into reports.notes
select 'conversations', 'incident', incidentid, contact_note
from case_fate
where fate is null and contact_note is not null
    and incidentid in (select source_id from stage.conversations)
order by incidentid;

create table rejects.conversations as
select source_table, source_id, rule, reason, field, context
from (
    select
        'incident' as source_table,
        incidentid as source_id,
        fate as rule,
        case fate
            when 'no_contact' then 'case customer has no contact: not a known contact, and its account has none'
            when 'contact_rejected' then 'the case''s contact was rejected (see rejects.contacts)'
            when 'empty_body' then 'case has no description, title or case number to open the conversation with'
            else 'statecode is not 0 Active, 1 Resolved or 2 Cancelled'
        end as reason,
        case fate when 'empty_body' then 'description' when 'unknown_state' then 'statecode'
            else 'customerid' end as field,
        case fate
            when 'unknown_state' then 'statecode: ' || coalesce(cast(statecode as varchar), 'null')
            when 'empty_body' then 'description, title, ticketnumber: empty'
            else _customerid_value__lookuplogicalname || ':' || _customerid_value
        end as context
    from case_fate
    where fate is not null
    union all
    select 'incident', source_id, rule, reason, field, context
    from conversation_violation
)
order by source_id;

-- What became of each entitlement, SLA and KPI row: none is an Intercom
-- object, so each is out of scope with the reason, and conservation holds.
create or replace temp table staged_case as select source_id as incidentid from stage.conversations;

insert into reports.out_of_scope
select 'entitlement', e.entitlementid,
    case when exists (select 1 from case_entitlement ce join staged_case s using (incidentid)
                      where ce.entitlementid = e.entitlementid)
        then 'consumed as conversation attributes of its cases (dynamics_entitlement*)'
        else 'entitlement of no migrated case: listed in the SLA inventory' end
from entitlement_rows e
order by e.entitlementid;

insert into reports.out_of_scope
select 'entitlementchannel', c.entitlementchannelid,
    case when exists (select 1 from case_entitlement ce join staged_case s using (incidentid)
                      where ce.entitlementid = c._entitlementid_value)
        then 'consumed as channel restrictions of its entitlement (dynamics_entitlement_channels)'
        else 'channel of an entitlement of no migrated case' end
from entitlementchannel_rows c
order by c.entitlementchannelid;

insert into reports.out_of_scope
select 'sla', slaid, 'SLA definition: listed in reports.sla_definitions to rebuild by hand in Intercom'
from sla_rows
order by slaid;

insert into reports.out_of_scope
select 'slaitem', slaitemid, 'SLA item (KPI target): listed in reports.sla_definitions to rebuild by hand in Intercom'
from slaitem_rows
order by slaitemid;

insert into reports.out_of_scope
select 'slakpiinstance', k.slakpiinstanceid,
    case
        when k.incidentid is null then 'SLA timer not regarding a case in the snapshot'
        when k.kind is null then 'SLA timer neither first response nor resolve by: counted in the SLA inventory'
        when k.incidentid not in (select incidentid from staged_case) then 'SLA timer of a case that was not migrated'
        when k.latest then 'consumed as SLA conversation attributes of its case'
        else 'older SLA timer of the same kind: its case carries the latest'
    end
from kpi_choice k
order by k.slakpiinstanceid;
