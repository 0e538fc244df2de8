-- Builds stage.data_attributes (the custom attributes replay creates before
-- any object) and rejects.data_attributes from attribute_defs
-- (15_validation.sql) and the attribute names the staged companies,
-- contacts and conversations carry: an attribute is created only when some
-- staged row has a value for it. source_table/source_id name the Dataverse
-- table and column each comes from.
create or replace temp table used_attribute as
select distinct model, name from (
    select 'company' as model, unnest(json_keys(custom_attributes)) as name from stage.companies
    union all
    select 'contact', unnest(json_keys(custom_attributes)) from stage.contacts
    union all
    select 'conversation', unnest(json_keys(custom_attributes)) from stage.conversations
);

-- A definition Intercom would refuse: a name outside its character set or
-- over the cap, or a type the model does not take (spec §9). The values of
-- such an attribute were already refused row by row (attribute_name,
-- attribute_type), so this only reports the definition itself.
create or replace temp table attribute_def_fate as
select
    d.*,
    case
        when not attr_name_ok(d.name) then 'attribute_name'
        when length(d.name) > (select max_chars from reports.field_caps where field = 'data_attribute.name')
            then 'string_too_long'
        when d.data_type not in ('string', 'integer', 'float', 'boolean', 'date') then 'attribute_type'
        when d.model not in ('contact', 'company', 'conversation') then 'attribute_type'
    end as rule
from attribute_defs d
join used_attribute u using (model, name);

create table stage.data_attributes as
select
    model, name, data_type, description, source_table, source_column as source_id,
    row_number() over (order by model, name) as ord
from attribute_def_fate
where rule is null
order by ord;

create table rejects.data_attributes as
select source_table, source_column as source_id, rule, rule_reason(rule) as reason, 'name' as field,
    model || '.' || name || ' (' || data_type || ')' as context
from attribute_def_fate
where rule is not null
order by model, name;
