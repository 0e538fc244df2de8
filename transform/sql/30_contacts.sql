-- Builds stage.contacts (users deduped on email, and leads), rejects.contacts
-- and temp table contact_map (every staged contactid → its surviving
-- contactid) from contact_rows and stage.companies. Each contact row is
-- validated (15_validation.sql) before dedupe, so a rejected row neither
-- survives nor merges.
--
-- Name: Intercom contacts have one name (spec §7.2), so name stays the full
-- name (fullname, else firstname lastname). The split is kept as contact
-- attributes dynamics_first_name / dynamics_last_name, for segments and
-- greetings: firstname and lastname when Dynamics has either; otherwise
-- fullname's last word is the last name and the words before it the first
-- name, and a one-word fullname (e.g. 王小明, written without spaces) is a
-- first name only.
--
-- Communication preferences: donotemail (no email at all) and donotbulkemail
-- (no marketing email) both mean the person must not get Intercom's outbound
-- email, so either one sets unsubscribed_from_emails; both are also kept as
-- boolean attributes. Over a duplicate group an opt-out of any member wins.

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

create or replace temp table contact_candidate as
with named as (
    select
        c.*,
        nullif(trim(c.fullname), '') as full_trimmed,
        nullif(trim(c.firstname), '') as first_trimmed,
        nullif(trim(c.lastname), '') as last_trimmed
    from contact_rows c
)
select
    c.contactid,
    k.email,
    coalesce(c.full_trimmed, nullif(concat_ws(' ', c.first_trimmed, c.last_trimmed), '')) as name,
    case
        when c.first_trimmed is not null or c.last_trimmed is not null then c.first_trimmed
        when regexp_matches(c.full_trimmed, '\s') then regexp_extract(c.full_trimmed, '^(.*\S)\s+\S+$', 1)
        else c.full_trimmed
    end as first_name,
    case
        when c.first_trimmed is not null or c.last_trimmed is not null then c.last_trimmed
        when regexp_matches(c.full_trimmed, '\s') then regexp_extract(c.full_trimmed, '(\S+)$', 1)
    end as last_name,
    coalesce(
        nullif(trim(c.telephone1), ''), nullif(trim(c.mobilephone), ''), nullif(trim(c.telephone2), '')
    ) as phone,
    c.donotemail,
    c.donotbulkemail,
    c._parentcustomerid_value,
    c._parentcustomerid_value__lookuplogicalname,
    c.statecode,
    c.createdon
from named c
left join contact_key k on k.contactid = c.contactid;

insert into field_values
select 'contact', contactid, field, value, null, false
from (unpivot (select contactid, name, email, phone from contact_candidate)
      on name, email, phone into name field value value);

insert into field_values
select 'contact', contactid, 'createdon', null, createdon, false
from contact_candidate
where createdon is not null;

insert into attr_values
select 'contact', contactid, name, value
from (unpivot (
        select contactid,
            to_json(contactid) as dynamics_contact_id,
            to_json(first_name) as dynamics_first_name,
            to_json(last_name) as dynamics_last_name,
            to_json(donotemail) as dynamics_do_not_email,
            to_json(donotbulkemail) as dynamics_do_not_bulk_email
        from contact_candidate)
      on columns(* exclude (contactid)) into name name value value);

create or replace temp table contact_violation as select * from violations('contact');

create or replace temp table contact_base as
select
    c.*,
    co.company_id,
    -- the survivor of a duplicate group: active first, then oldest, then smallest id.
    row_number() over (
        partition by coalesce(c.email, c.contactid)
        order by (c.statecode is distinct from 0), c.createdon nulls last, c.contactid
    ) as rank_in_group
from contact_candidate c
left join stage.companies co
    on co.company_id = c._parentcustomerid_value
    and c._parentcustomerid_value__lookuplogicalname = 'account'
where c.contactid not in (select source_id from contact_violation);

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
        arg_min({'name': b.name, 'first': b.first_name, 'last': b.last_name}, b.rank_in_group)
            filter (where b.name is not null) as naming,
        arg_min(b.phone, b.rank_in_group) filter (where b.phone is not null) as phone,
        arg_min(b.company_id, b.rank_in_group) filter (where b.company_id is not null) as company_id,
        bool_or(b.donotemail) as donotemail,
        bool_or(b.donotbulkemail) as donotbulkemail,
        min(b.createdon) as first_created,
        list(b.contactid order by b.rank_in_group) filter (where b.contactid <> m.survivor_id) as merged
    from contact_base b
    join contact_map m on m.contactid = b.contactid
    group by m.survivor_id
),
attrs as (
    select survivor_id, attrs_json(name, value) as custom_attributes
    from (unpivot (
            select survivor_id,
                to_json(survivor_id) as dynamics_contact_id,
                to_json(naming.first) as dynamics_first_name,
                to_json(naming.last) as dynamics_last_name,
                to_json(donotemail) as dynamics_do_not_email,
                to_json(donotbulkemail) as dynamics_do_not_bulk_email
            from grouped)
          on columns(* exclude (survivor_id)) into name name value value)
    group by survivor_id
)
select
    'contact' as source_table,
    g.survivor_id as source_id,
    case when g.email is null then 'lead' else 'user' end as role,
    case when g.email is null then null else g.survivor_id end as external_id,
    g.email,
    g.naming.name as name,
    g.phone,
    unix_s(g.first_created) as signed_up_at,
    coalesce(g.donotemail or g.donotbulkemail, false) as unsubscribed_from_emails,
    g.company_id as company_source_id,
    coalesce(g.merged, cast([] as varchar[])) as merged_source_ids,
    a.custom_attributes,
    row_number() over (order by g.first_created nulls last, g.survivor_id) as ord
from grouped g
join attrs a on a.survivor_id = g.survivor_id
order by ord;

create table rejects.contacts as
select 'contact' as source_table, source_id, rule, reason, field, context
from contact_violation
order by source_id;
