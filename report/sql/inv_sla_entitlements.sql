-- SLA inventory, entitlements: every active entitlement with its terms, its
-- customer, its SLA and the channels it covers.
with channels as (
    select _entitlementid_value as entitlementid,
        string_agg(coalesce(name, channel__label, cast(channel as varchar)) || ' '
            || coalesce(cast(remainingterms as varchar), '?') || '/' || coalesce(cast(totalterms as varchar), '?'),
            '; ' order by channel, name) as channels
    from {{entitlementchannel}}
    group by all
)
select
    e.entitlementid,
    e.name,
    coalesce(e.statecode__label, cast(e.statecode as varchar)) as state,
    e._customerid_value__lookuplogicalname as customer_table,
    e._customerid_value as customer_id,
    e._customerid_value__formatted as customer,
    coalesce(e.allocationtypecode__label, cast(e.allocationtypecode as varchar)) as allocation,
    coalesce(e.decreaseremainingon__label, cast(e.decreaseremainingon as varchar)) as decrease_on,
    cast(e.totalterms as varchar) as total_terms,
    cast(e.remainingterms as varchar) as remaining_terms,
    strftime(e.startdate, '%Y-%m-%d') as start_date,
    strftime(e.enddate, '%Y-%m-%d') as end_date,
    e._slaid_value__formatted as sla,
    e._entitlementtemplateid_value__formatted as template,
    c.channels
from {{entitlement}} e
left join channels c on c.entitlementid = e.entitlementid
where e.statecode = 1
order by lower(e.name), e.entitlementid;
