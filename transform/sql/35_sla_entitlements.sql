-- Builds what a case's conversation carries from its entitlement and its SLA
-- timers, and the SLA inventory: temp tables case_entitlement (one row per
-- case with an entitlement) and case_sla (one row per case with SLA KPI
-- instances), temp table kpi_choice (every slakpiinstance row with the
-- kind it counts as and whether it is its case's latest of that kind), and
-- reports.sla_definitions (every SLA and SLA item, each a row). Reads
-- incident_rows, entitlement_rows, entitlementchannel_rows, sla_rows,
-- slaitem_rows and slakpiinstance_rows. 40_conversations.sql records what
-- became of each of these rows.

-- a number of terms as text: 3 rather than 3.0, 2.5 as is.
create or replace temp macro terms_text(x) as
    case when x = floor(x) then cast(cast(x as bigint) as varchar) else cast(x as varchar) end;

create or replace temp table entitlement_channels as
select
    _entitlementid_value as entitlementid,
    string_agg(coalesce(channel__label, cast(channel as varchar), name) || ' '
        || coalesce(terms_text(cast(remainingterms as double)), '?') || '/'
        || coalesce(terms_text(cast(totalterms as double)), '?'),
        ', ' order by channel, entitlementchannelid) as channels
from entitlementchannel_rows
where _entitlementid_value is not null
group by _entitlementid_value;

create or replace temp table case_entitlement as
select
    i.incidentid,
    e.entitlementid,
    nullif(trim(e.name), '') as name,
    e.allocationtypecode__label as allocation,
    cast(e.totalterms as double) as total_terms,
    cast(e.remainingterms as double) as remaining_terms,
    ch.channels,
    cast(e.startdate as timestamptz) as start_at,
    cast(e.enddate as timestamptz) as end_at
from incident_rows i
join entitlement_rows e on e.entitlementid = i._entitlementid_value
left join entitlement_channels ch on ch.entitlementid = e.entitlementid;

-- Which timer a KPI instance is: the case's own lookups say it best; else
-- the SLA item's related field; else the KPI's name (the default KPIs are
-- "First Response By KPI" and "Resolve By KPI").
create or replace temp table kpi_choice as
with kinds as (
    select
        k.*,
        i.incidentid,
        case
            when k.slakpiinstanceid = i._firstresponsebykpiid_value then 'first_response'
            when k.slakpiinstanceid = i._resolvebykpiid_value then 'resolve_by'
            when si.relatedfield = 'firstresponsebykpiid' then 'first_response'
            when si.relatedfield = 'resolvebykpiid' then 'resolve_by'
            when k.name ilike '%first response%' then 'first_response'
            when k.name ilike '%resolve%' then 'resolve_by'
        end as kind,
        si.slaitemid,
        si._slaid_value as slaid
    from slakpiinstance_rows k
    left join incident_rows i
        on i.incidentid = k._regarding_value and k._regarding_value__lookuplogicalname = 'incident'
    left join slaitem_rows si on si.slaitemid = k._msdyn_slaitemid_value
)
select
    *,
    incidentid is not null and kind is not null and row_number() over (
        partition by incidentid, kind order by createdon desc nulls last, slakpiinstanceid desc
    ) = 1 as latest
from kinds;

create or replace temp table case_sla as
select
    k.incidentid,
    arg_min(s.name, (k.kind, k.slakpiinstanceid)) filter (where s.name is not null) as sla_name,
    arg_min(s._businesshoursid_value__formatted, (k.kind, k.slakpiinstanceid))
        filter (where s._businesshoursid_value__formatted is not null) as business_hours,
    any_value(k.failuretime) filter (where k.kind = 'first_response') as first_response_by,
    any_value(k.warningtime) filter (where k.kind = 'first_response') as first_response_warning,
    any_value(k.status__label) filter (where k.kind = 'first_response') as first_response_status,
    any_value(k.failuretime) filter (where k.kind = 'resolve_by') as resolve_by,
    any_value(k.warningtime) filter (where k.kind = 'resolve_by') as resolve_by_warning,
    any_value(k.status__label) filter (where k.kind = 'resolve_by') as resolve_by_status,
    -- status 3 is Paused in the slakpiinstance metadata
    bool_or(k.status = 3) as paused
from kpi_choice k
left join sla_rows s on s.slaid = k.slaid
where k.latest
group by k.incidentid;

-- Every SLA definition, one row per SLA item (an SLA without items has one
-- row with a null item), for rebuilding them by hand in Intercom.
create table reports.sla_definitions as
with kpi_count as (
    select slaitemid, count(*) as kpi_instances from kpi_choice where slaitemid is not null group by slaitemid
)
select
    coalesce(si.slaitemid, s.slaid) as source_id,
    case when si.slaitemid is null then 'sla' else 'slaitem' end as source_table,
    s.slaid as sla_id,
    s.name as sla_name,
    s.statecode__label as sla_state,
    s.slatype__label as sla_type,
    s.isdefault as is_default,
    coalesce(si._businesshoursid_value__formatted, s._businesshoursid_value__formatted) as business_hours,
    coalesce(si.allowpauseresume, s.allowpauseresume) as allow_pause_resume,
    si.slaitemid as item_id,
    si.name as item_name,
    si.relatedfield as kpi_field,
    si.warnafter as warn_after_minutes,
    si.failureafter as failure_after_minutes,
    coalesce(kc.kpi_instances, 0) as kpi_instances,
    row_number() over (order by s.name nulls last, s.slaid, si.sequencenumber nulls last, si.slaitemid) as ord
from sla_rows s
left join slaitem_rows si on si._slaid_value = s.slaid
left join kpi_count kc on kc.slaitemid = si.slaitemid
order by ord;
