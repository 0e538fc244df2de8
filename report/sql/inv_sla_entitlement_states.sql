-- SLA inventory: entitlements per state, so the reader sees what the active
-- list leaves out.
select coalesce(statecode__label, cast(statecode as varchar)) as state, cast(count(*) as varchar) as entitlements
from {{entitlement}}
group by all
order by 1;
