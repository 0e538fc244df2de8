-- Builds stage.companies and rejects.companies from account_rows, through
-- the validation of 15_validation.sql (field_values, attr_values,
-- violations).
--
-- Website rule: trimmed; https:// is added when the value has no scheme; the
-- scheme and host are lower-cased (the path keeps its case: servers may
-- treat it so); trailing slashes are trimmed. "WWW.Example.com/" becomes
-- "https://www.example.com". Intercom does not validate websites (spec §8).
create or replace temp macro normalize_website(s) as
    case when not blank(s) then rtrim(
        lower(coalesce(nullif(regexp_extract(trim(s), '^([A-Za-z][A-Za-z0-9+.-]*://)', 1), ''), 'https://'))
        || lower(regexp_extract(trim(s), '^(?:[A-Za-z][A-Za-z0-9+.-]*://)?([^/?#]*)', 1))
        || regexp_extract(trim(s), '^(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^/?#]*(.*)$', 1),
        '/') end;

create or replace temp table account_fate as
select
    a.*,
    case when blank(a.name) then 'missing_name' end as fate
from account_rows a;

create or replace temp table company_candidate as
select
    a.accountid,
    trim(a.name) as name,
    normalize_website(a.websiteurl) as website,
    a.industrycode__label as industry,
    a.numberofemployees as size,
    a.createdon,
    nullif(trim(a.address1_city), '') as city,
    nullif(trim(a.address1_stateorprovince), '') as region,
    nullif(trim(a.address1_country), '') as country,
    nullif(trim(a.address1_postalcode), '') as postal_code,
    a._parentaccountid_value as parent_id,
    coalesce(nullif(trim(a._parentaccountid_value__formatted), ''), trim(p.name)) as parent_name
from account_fate a
left join account_rows p on p.accountid = a._parentaccountid_value
where a.fate is null;

insert into field_values
select 'company', accountid, field, value, null, false
from (unpivot (select accountid, name, website, industry from company_candidate)
      on name, website, industry into name field value value);

insert into field_values
select 'company', accountid, 'createdon', null, createdon, false
from company_candidate
where createdon is not null;

insert into attr_values
select 'company', accountid, name, value
from (unpivot (
        select accountid,
            to_json(city) as dynamics_city,
            to_json(region) as dynamics_region,
            to_json(country) as dynamics_country,
            to_json(postal_code) as dynamics_postal_code,
            to_json(parent_id) as dynamics_parent_account_id,
            to_json(parent_name) as dynamics_parent_account_name
        from company_candidate)
      on columns(* exclude (accountid)) into name name value value);

create or replace temp table company_violation as select * from violations('company');

create table stage.companies as
with attrs as (
    select source_id, attrs_json(name, value) as custom_attributes
    from attr_values
    where model = 'company'
    group by source_id
)
select
    'account' as source_table,
    c.accountid as source_id,
    c.accountid as company_id,
    c.name,
    c.website,
    c.industry,
    c.size,
    unix_s(c.createdon) as remote_created_at,
    coalesce(a.custom_attributes, cast('{}' as json)) as custom_attributes,
    row_number() over (order by c.createdon nulls last, c.accountid) as ord
from company_candidate c
left join attrs a on a.source_id = c.accountid
where c.accountid not in (select source_id from company_violation)
order by ord;

create table rejects.companies as
select source_table, source_id, rule, reason, field, context
from (
    select 'account' as source_table, accountid as source_id, fate as rule,
        'account has no name; an Intercom company needs one' as reason, 'name' as field,
        cast(null as varchar) as context
    from account_fate
    where fate is not null
    union all
    select 'account', source_id, rule, reason, field, context
    from company_violation
)
order by source_id;
