-- SLA inventory, definitions: every SLA with each of its items (the KPI it
-- times, when it applies, warning and failure durations, business hours).
select
    s.slaid,
    s.name as sla,
    coalesce(s.statecode__label, cast(s.statecode as varchar)) as state,
    coalesce(s.slatype__label, cast(s.slatype as varchar)) as sla_type,
    s.applicablefrom,
    cast(s.isdefault as varchar) as is_default,
    cast(s.allowpauseresume as varchar) as sla_allow_pause_resume,
    i.slaitemid,
    i.name as item,
    coalesce(i._msdyn_slakpiid_value__formatted, i.relatedfield) as kpi,
    i.applicablewhenxml as applicable_when,
    cast(i.warnafter as varchar) as warn_after_minutes,
    cast(i.failureafter as varchar) as failure_after_minutes,
    coalesce(i._businesshoursid_value__formatted, ci.name,
        s._businesshoursid_value__formatted, cs.name) as business_hours,
    cast(i.allowpauseresume as varchar) as item_allow_pause_resume
from {{sla}} s
left join {{slaitem}} i on i._slaid_value = s.slaid
left join {{calendar}} ci on ci.calendarid = i._businesshoursid_value
left join {{calendar}} cs on cs.calendarid = s._businesshoursid_value
order by lower(s.name), s.slaid, i.sequencenumber, lower(i.name), i.slaitemid;
