-- Builds stage.companies and rejects.companies from account_rows.
create or replace temp table account_fate as
select
    a.*,
    case when blank(a.name) then 'missing_name' end as fate
from account_rows a;

create table stage.companies as
select
    'account' as source_table,
    accountid as source_id,
    accountid as company_id,
    trim(name) as name,
    nullif(trim(websiteurl), '') as website,
    industrycode__label as industry,
    unix_s(createdon) as remote_created_at,
    cast('{}' as json) as custom_attributes,
    row_number() over (order by createdon nulls last, accountid) as ord
from account_fate
where fate is null
order by ord;

create table rejects.companies as
select
    'account' as source_table,
    accountid as source_id,
    fate as rule,
    'account has no name; an Intercom company needs one' as reason
from account_fate
where fate is not null
order by accountid;
