-- Builds reports.reconciliation (one row per source table: snapshot rows =
-- staged + merged + rejected + out of scope, no id staged twice) and reports.rejects_by_reason
-- from snap_tables (the manifest, filled by the Go runner), stage.*,
-- rejects.* and reports.out_of_scope.
create or replace temp table fate_count as
with staged as (
    select source_table, count(*) as n, count(distinct source_id) as ids from (
        select source_table, source_id from stage.admins
        union all select source_table, source_id from stage.teams
        union all select source_table, source_id from stage.companies
        union all select source_table, source_id from stage.contacts
        union all select source_table, source_id from stage.conversations
        union all select source_table, source_id from stage.conversation_parts
        union all select source_table, source_id from stage.contact_notes
        union all select source_table, source_id from stage.collections
        union all select source_table, source_id from stage.articles
        -- a file split over the cap is several rows of one source row.
        union all select distinct source_table, source_id from stage.attachments
            where source_table = 'activitymimeattachment'
    ) group by source_table
),
merged as (
    select source_table, sum(len(merged_source_ids)) as n from stage.contacts group by source_table
),
rejected as (
    select source_table, count(*) as n from (
        select source_table from rejects.admins
        union all select source_table from rejects.teams
        union all select source_table from rejects.companies
        union all select source_table from rejects.contacts
        union all select source_table from rejects.conversations
        union all select source_table from rejects.conversation_parts
        union all select source_table from rejects.contact_notes
        union all select source_table from rejects.collections
        union all select source_table from rejects.articles
        union all select source_table from rejects.attachments
    ) group by source_table
),
out_of_scope as (
    select source_table, count(*) as n from reports.out_of_scope group by source_table
)
select
    t.source_table,
    coalesce(s.n, 0) as staged,
    coalesce(s.ids, 0) as staged_ids,
    coalesce(m.n, 0) as merged,
    coalesce(r.n, 0) as rejected,
    coalesce(o.n, 0) as out_of_scope
from snap_tables t
left join staged s on s.source_table = t.source_table
left join merged m on m.source_table = t.source_table
left join rejected r on r.source_table = t.source_table
left join out_of_scope o on o.source_table = t.source_table;

create table reports.reconciliation as
with objects (source_table, object) as (
    values
        ('systemuser', 'admins'),
        ('queue', 'teams'),
        ('account', 'companies'),
        ('contact', 'contacts'),
        ('incident', 'conversations'),
        ('email', 'conversation_parts'),
        ('activityparty', 'email_participants'),
        ('queueitem', 'case_routing'),
        ('phonecall', 'conversation_parts'),
        ('task', 'conversation_parts'),
        ('appointment', 'conversation_parts'),
        ('sla', 'sla_definitions'),
        ('slaitem', 'sla_definitions'),
        ('entitlement', 'conversation_attributes'),
        ('entitlementchannel', 'conversation_attributes'),
        ('slakpiinstance', 'conversation_attributes'),
        ('languagelocale', 'article_locales'),
        ('category', 'collections'),
        ('knowledgearticle', 'articles'),
        ('knowledgearticlescategories', 'article_collections'),
        ('annotation', 'conversation_parts'),
        ('activitymimeattachment', 'attachments'),
        ('msdyn_ocliveworkitem', 'conversations'),
        ('msdyn_ocsession', 'omnichannel_sessions'),
        ('msdyn_transcript', 'conversation_parts'),
        ('msdyn_ocrecording', 'channel_assets')
)
select
    o.object,
    t.source_table,
    t.source_count,
    t.snapshot_rows,
    cast(f.staged as bigint) as staged,
    cast(f.merged as bigint) as merged,
    cast(f.rejected as bigint) as rejected,
    cast(f.out_of_scope as bigint) as out_of_scope,
    -- a row staged twice would hide a lost one: staged ids must be distinct too.
    t.snapshot_rows = f.staged + f.merged + f.rejected + f.out_of_scope
        and f.staged = f.staged_ids as conserved,
    t.status as snapshot_status,
    t.ord
from snap_tables t
join objects o on o.source_table = t.source_table
join fate_count f on f.source_table = t.source_table
order by t.ord;

-- keyed by source table too: one object (conversation_parts) is fed by
-- several tables (emails, phone calls, tasks, appointments).
create table reports.rejects_by_reason as
select object, source_table, rule, reason, count(*) as rows
from (
    select 'admins' as object, source_table, rule, reason from rejects.admins
    union all select 'teams', source_table, rule, reason from rejects.teams
    union all select 'companies', source_table, rule, reason from rejects.companies
    union all select 'contacts', source_table, rule, reason from rejects.contacts
    union all select 'conversations', source_table, rule, reason from rejects.conversations
    union all select 'conversation_parts', source_table, rule, reason from rejects.conversation_parts
    union all select 'contact_notes', source_table, rule, reason from rejects.contact_notes
    union all select 'collections', source_table, rule, reason from rejects.collections
    union all select 'articles', source_table, rule, reason from rejects.articles
    union all select 'attachments', source_table, rule, reason from rejects.attachments
)
group by object, source_table, rule, reason
order by object, source_table, rule, reason;

create table reports.out_of_scope_by_reason as
select source_table, reason, count(*) as rows
from reports.out_of_scope
group by source_table, reason
order by source_table, reason;
