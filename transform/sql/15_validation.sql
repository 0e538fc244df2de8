-- Builds the field-level validation the object steps (20-45) share:
-- reports.field_caps (Intercom's length caps), attribute_defs (every custom
-- attribute transform may stage, with its type), the long-form temp tables
-- field_values and attr_values each step fills with a candidate row's fields,
-- and table macro violations(model) that names the first rule each candidate
-- breaks. A candidate that breaks a rule is rejected with the rule, the
-- column and a short excerpt: nothing is truncated or dropped silently.
-- Reads snap_info (when the snapshot finished, from the manifest).

-- Length caps in characters (DuckDB length() counts characters, so an emoji
-- or an accent is one). Intercom documents none of them for REST: spec §9
-- says 255 for string attribute values comes only from third parties and must
-- stay configurable, and spec §18 (14) says body and text-field limits are
-- undocumented. Change a cap here; the rules read it from this table.
create table reports.field_caps as
select * from (values
    ('company', 'name', 255, 'undocumented; 255 as for string attributes (spec §9)'),
    ('company', 'website', 255, 'undocumented; 255 as for string attributes (spec §9)'),
    ('company', 'industry', 255, 'undocumented; 255 as for string attributes (spec §9)'),
    ('contact', 'name', 255, 'undocumented; 255 as for string attributes (spec §9)'),
    ('contact', 'email', 255, 'undocumented; 255 as for string attributes (spec §9)'),
    ('contact', 'phone', 255, 'undocumented; 255 as for string attributes (spec §9)'),
    ('conversation', 'title', 255, 'undocumented; 255 as for string attributes (spec §9)'),
    ('conversation', 'body', 100000, 'undocumented (spec §18 item 14): a case description above it is kept back'),
    ('*', 'custom_attributes.*', 255, 'string attribute values: 255 per third parties, unverified (spec §9)'),
    ('*', 'data_attribute.name', 255, 'undocumented; attribute names are short labels')
) t(model, field, max_chars, basis);

-- Every custom attribute the object steps may stage. 60_data_attributes.sql
-- creates the ones a staged row uses. Types are the staged ones (contracts §2):
-- replay maps float → decimal and date → datetime for conversation attributes.
-- Dates are unix seconds.
create or replace temp table attribute_defs as
select * from (values
    ('company', 'dynamics_city', 'string', 'Dynamics 365 account city (address1_city)', 'account', 'address1_city'),
    ('company', 'dynamics_region', 'string', 'Dynamics 365 account state or province (address1_stateorprovince)',
        'account', 'address1_stateorprovince'),
    ('company', 'dynamics_country', 'string', 'Dynamics 365 account country (address1_country)',
        'account', 'address1_country'),
    ('company', 'dynamics_postal_code', 'string', 'Dynamics 365 account postal code (address1_postalcode)',
        'account', 'address1_postalcode'),
    ('company', 'dynamics_parent_account_id', 'string',
        'Dynamics 365 parent account id (parentaccountid): the parent company''s company_id',
        'account', 'parentaccountid'),
    ('company', 'dynamics_parent_account_name', 'string', 'Dynamics 365 parent account name (parentaccountid)',
        'account', 'parentaccountid'),
    ('contact', 'dynamics_contact_id', 'string', 'Dynamics 365 contact id (contactid)', 'contact', 'contactid'),
    ('contact', 'dynamics_first_name', 'string',
        'Dynamics 365 first name (firstname, else all but the last word of fullname)', 'contact', 'firstname'),
    ('contact', 'dynamics_last_name', 'string',
        'Dynamics 365 last name (lastname, else the last word of fullname)', 'contact', 'lastname'),
    ('contact', 'dynamics_do_not_email', 'boolean', 'Dynamics 365 Do not allow Emails (donotemail)',
        'contact', 'donotemail'),
    ('contact', 'dynamics_do_not_bulk_email', 'boolean', 'Dynamics 365 Do not allow Bulk Emails (donotbulkemail)',
        'contact', 'donotbulkemail'),
    ('conversation', 'dynamics_case_id', 'string', 'Dynamics 365 case id (incidentid)', 'incident', 'incidentid'),
    ('conversation', 'dynamics_case_number', 'string', 'Dynamics 365 case number (ticketnumber)',
        'incident', 'ticketnumber'),
    ('conversation', 'dynamics_priority', 'string', 'Dynamics 365 case priority (prioritycode label)',
        'incident', 'prioritycode'),
    ('conversation', 'dynamics_status', 'string', 'Dynamics 365 case status reason (statuscode label)',
        'incident', 'statuscode'),
    ('conversation', 'dynamics_state', 'string',
        'Dynamics 365 case state (statecode label: Active, Resolved, Cancelled)', 'incident', 'statecode'),
    ('conversation', 'dynamics_origin', 'string', 'Dynamics 365 case origin (caseorigincode label)',
        'incident', 'caseorigincode'),
    ('conversation', 'dynamics_case_type', 'string', 'Dynamics 365 case type (casetypecode label)',
        'incident', 'casetypecode'),
    ('conversation', 'dynamics_parent_case_number', 'string',
        'Dynamics 365 parent case number (parentcaseid → ticketnumber)', 'incident', 'parentcaseid'),
    ('conversation', 'dynamics_entitlement', 'string', 'Dynamics 365 entitlement of the case (name)',
        'entitlement', 'name'),
    ('conversation', 'dynamics_entitlement_allocation', 'string',
        'Dynamics 365 entitlement allocation type (allocationtypecode label)', 'entitlement', 'allocationtypecode'),
    ('conversation', 'dynamics_entitlement_total_terms', 'float', 'Dynamics 365 entitlement total terms',
        'entitlement', 'totalterms'),
    ('conversation', 'dynamics_entitlement_remaining_terms', 'float', 'Dynamics 365 entitlement remaining terms',
        'entitlement', 'remainingterms'),
    ('conversation', 'dynamics_entitlement_channels', 'string',
        'Dynamics 365 entitlement channel restrictions (channel remaining/total terms)',
        'entitlementchannel', 'channel'),
    ('conversation', 'dynamics_entitlement_start', 'date', 'Dynamics 365 entitlement start date',
        'entitlement', 'startdate'),
    ('conversation', 'dynamics_entitlement_end', 'date', 'Dynamics 365 entitlement end date',
        'entitlement', 'enddate'),
    ('conversation', 'dynamics_sla', 'string', 'Dynamics 365 SLA applied to the case (sla name)', 'sla', 'name'),
    ('conversation', 'dynamics_sla_business_hours', 'string', 'Dynamics 365 SLA business hours (calendar name)',
        'sla', 'businesshoursid'),
    ('conversation', 'dynamics_first_response_by', 'date', 'Dynamics 365 first-response target (KPI failure time)',
        'slakpiinstance', 'failuretime'),
    ('conversation', 'dynamics_first_response_warning', 'date', 'Dynamics 365 first-response KPI warning time',
        'slakpiinstance', 'warningtime'),
    ('conversation', 'dynamics_first_response_status', 'string', 'Dynamics 365 first-response KPI status',
        'slakpiinstance', 'status'),
    ('conversation', 'dynamics_resolve_by', 'date', 'Dynamics 365 resolve-by target (KPI failure time)',
        'slakpiinstance', 'failuretime'),
    ('conversation', 'dynamics_resolve_by_warning', 'date', 'Dynamics 365 resolve-by KPI warning time',
        'slakpiinstance', 'warningtime'),
    ('conversation', 'dynamics_resolve_by_status', 'string', 'Dynamics 365 resolve-by KPI status',
        'slakpiinstance', 'status'),
    ('conversation', 'dynamics_sla_paused', 'boolean', 'Dynamics 365 SLA timer paused (a KPI in status Paused)',
        'slakpiinstance', 'status')
) t(model, name, data_type, description, source_table, source_column);

-- Text that went through a UTF-8 decoder with invalid bytes holds U+FFFD
-- where they were; NUL is never text. Either means the source's bytes were
-- not valid UTF-8 text, and Intercom would store the damage.
create or replace temp macro broken_text(s) as
    contains(s, chr(65533)) or contains(s, chr(0));

-- a short, single-line excerpt of a value for a rejects context.
create or replace temp macro excerpt(s) as
    regexp_replace(case when length(s) > 40 then left(s, 40) || '…' else s end, '\s+', ' ', 'g');

-- Builds a JSON object from name/value pairs (value json, nulls skipped) in
-- name order, so that reruns write the same bytes. Use as an aggregate.
create or replace temp macro attrs_json(name, value) as
    cast('{' || coalesce(string_agg(cast(to_json(name) as varchar) || ':' || cast(value as varchar), ','
        order by name) filter (where value is not null), '') || '}' as json);

-- A candidate row's fields, one per row. value is text to check for broken
-- text and length; at is a timestamp to check for range. private marks a
-- message body: its rejects context gives its length, never its text.
create or replace temp table field_values (
    model varchar, source_id varchar, field varchar, value varchar, "at" timestamptz, private boolean);

-- A candidate row's custom attributes, one per name, value as JSON.
create or replace temp table attr_values (model varchar, source_id varchar, name varchar, value json);

-- the json_type() values an attribute of each staged type accepts.
create or replace temp macro attr_type_ok(data_type, json_kind) as case data_type
    when 'string' then json_kind = 'VARCHAR'
    when 'integer' then json_kind in ('BIGINT', 'UBIGINT')
    when 'float' then json_kind in ('DOUBLE', 'BIGINT', 'UBIGINT')
    when 'boolean' then json_kind = 'BOOLEAN'
    when 'date' then json_kind in ('BIGINT', 'UBIGINT')
    else false
end;

-- Attribute names Intercom accepts: letters, digits, spaces, underscores and
-- hyphens (spec §9 working set; it names currency symbols too, but no source
-- confirms which).
create or replace temp macro attr_name_ok(n) as coalesce(regexp_full_match(n, '[A-Za-z0-9 _-]+'), false);

create or replace temp macro rule_reason(rule) as case rule
    when 'invalid_utf8' then 'text holds U+FFFD or NUL: the source bytes were not valid UTF-8'
    when 'string_too_long' then 'longer than Intercom''s cap for the field (reports.field_caps)'
    when 'oversized_body' then 'message body longer than the cap (reports.field_caps): not sent cut short'
    when 'timestamp_out_of_range' then 'timestamp before 1990 or more than a year after the snapshot'
    when 'attribute_name' then 'custom attribute name is not defined, or not valid for Intercom'
    when 'attribute_type' then 'custom attribute value does not match the attribute''s data type'
end;

-- The first rule each candidate of model m breaks (by field name, text rules
-- before timestamp rules before attribute rules), with the offending field
-- and an excerpt. One row per rejected candidate, so rejects count rows.
create or replace temp macro violations(m) as table
with caps as (
    select model, field, max_chars from reports.field_caps
),
text_and_time as (
    select
        f.source_id,
        f.field,
        case
            when broken_text(f.value) then 'invalid_utf8'
            when length(f.value) > coalesce(c.max_chars, w.max_chars) and f.private then 'oversized_body'
            when length(f.value) > coalesce(c.max_chars, w.max_chars) then 'string_too_long'
            when f."at" < timestamptz '1990-01-01 00:00:00+00'
                or f."at" > (select finished_at + interval 1 year from snap_info) then 'timestamp_out_of_range'
        end as rule,
        case
            when f."at" is not null then f.field || ': ' || strftime(f."at", '%Y-%m-%d %H:%M:%S UTC')
            when f.private then f.field || ': ' || length(f.value) || ' chars'
            when length(f.value) > coalesce(c.max_chars, w.max_chars) then
                f.field || ' (' || length(f.value) || ' > ' || coalesce(c.max_chars, w.max_chars) || ' chars): '
                || excerpt(f.value)
            else f.field || ': ' || excerpt(f.value)
        end as context,
        case when f."at" is null then 1 else 2 end as prio
    from field_values f
    left join caps c on c.model = f.model and c.field = f.field
    left join caps w on w.model = '*' and w.field = 'custom_attributes.*' and f.field like 'custom_attributes.%'
    where f.model = m
),
attrs as (
    select
        a.source_id,
        'custom_attributes.' || a.name as field,
        case
            when d.name is null or not attr_name_ok(a.name) then 'attribute_name'
            when not attr_type_ok(d.data_type, json_type(a.value)) then 'attribute_type'
            when d.data_type = 'string' and broken_text(a.value ->> '$') then 'invalid_utf8'
            when d.data_type = 'string' and length(a.value ->> '$') > w.max_chars then 'string_too_long'
        end as rule,
        'custom_attributes.' || a.name || ' (' || coalesce(d.data_type, 'undefined') || ', '
            || lower(json_type(a.value)) || '): ' || excerpt(cast(a.value as varchar)) as context,
        3 as prio
    from attr_values a
    left join attribute_defs d on d.model = a.model and d.name = a.name
    left join caps w on w.model = '*' and w.field = 'custom_attributes.*'
    where a.model = m
)
select source_id, rule, rule_reason(rule) as reason, field, context
from (select * from text_and_time union all select * from attrs)
where rule is not null
qualify row_number() over (partition by source_id order by prio, field, rule) = 1;
