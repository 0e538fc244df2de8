-- SLA inventory, KPI instances: how many timers of each SLA are in each status.
select
    coalesce(s.slaid, '') as slaid,
    coalesce(s.name, '(SLA item not in the snapshot)') as sla,
    coalesce(k.status__label, cast(k.status as varchar), '(no status)') as status,
    cast(count(*) as varchar) as instances
from {{slakpiinstance}} k
left join {{slaitem}} i on i.slaitemid = k._msdyn_slaitemid_value
left join {{sla}} s on s.slaid = i._slaid_value
group by all
order by 2, 1, 3;
