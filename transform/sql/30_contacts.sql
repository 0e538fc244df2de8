-- Builds stage.contacts (users deduped on email, and leads), rejects.contacts
-- and temp table contact_map (every contactid → its surviving contactid) from
-- contact_rows and stage.companies.

-- every non-blank address of every contact, in emailaddress1..3 order.
create or replace temp table contact_address as
select contactid, 1 as pos, emailaddress1 as address from contact_rows where not blank(emailaddress1)
union all
select contactid, 2, emailaddress2 from contact_rows where not blank(emailaddress2)
union all
select contactid, 3, emailaddress3 from contact_rows where not blank(emailaddress3);

insert into reports.notes
select 'contacts', 'contact', contactid,
    'ignored malformed emailaddress' || pos || ': ' || address
from contact_address
where not is_email(address)
order by contactid, pos;

create or replace temp table contact_key as
select contactid, arg_min(lower(trim(address)), pos) as email
from contact_address
where is_email(address)
group by contactid;

create or replace temp table contact_base as
select
    c.contactid,
    k.email,
    coalesce(
        nullif(trim(c.fullname), ''), nullif(trim(concat_ws(' ', trim(c.firstname), trim(c.lastname))), '')
    ) as name,
    coalesce(
        nullif(trim(c.telephone1), ''), nullif(trim(c.mobilephone), ''), nullif(trim(c.telephone2), '')
    ) as phone,
    co.company_id,
    c.createdon,
    -- the survivor of a duplicate group: active first, then oldest, then smallest id.
    row_number() over (
        partition by coalesce(k.email, c.contactid)
        order by (c.statecode is distinct from 0), c.createdon nulls last, c.contactid
    ) as rank_in_group
from contact_rows c
left join contact_key k on k.contactid = c.contactid
left join stage.companies co
    on co.company_id = c._parentcustomerid_value
    and c._parentcustomerid_value__lookuplogicalname = 'account';

create or replace temp table contact_map as
select
    b.contactid,
    first_value(b.contactid) over (
        partition by coalesce(b.email, b.contactid) order by b.rank_in_group
    ) as survivor_id
from contact_base b;

insert into reports.notes
select 'contacts', 'contact', b.contactid, 'contact has no usable email address: staged as a lead'
from contact_base b
where b.email is null and exists (select 1 from contact_address a where a.contactid = b.contactid)
order by b.contactid;

create table stage.contacts as
with grouped as (
    select
        m.survivor_id,
        any_value(b.email) as email,
        arg_min(b.name, b.rank_in_group) filter (where b.name is not null) as name,
        arg_min(b.phone, b.rank_in_group) filter (where b.phone is not null) as phone,
        arg_min(b.company_id, b.rank_in_group) filter (where b.company_id is not null) as company_id,
        min(b.createdon) as first_created,
        list(b.contactid order by b.rank_in_group) filter (where b.contactid <> m.survivor_id) as merged
    from contact_base b
    join contact_map m on m.contactid = b.contactid
    group by m.survivor_id
)
select
    'contact' as source_table,
    survivor_id as source_id,
    case when email is null then 'lead' else 'user' end as role,
    case when email is null then null else survivor_id end as external_id,
    email,
    name,
    phone,
    unix_s(first_created) as signed_up_at,
    company_id as company_source_id,
    coalesce(merged, cast([] as varchar[])) as merged_source_ids,
    json_object('dynamics_contact_id', survivor_id) as custom_attributes,
    row_number() over (order by first_created nulls last, survivor_id) as ord
from grouped
order by ord;

-- no contact rule rejects today; the table exists so every object has one.
create table rejects.contacts (
    source_table varchar, source_id varchar, rule varchar, reason varchar);
