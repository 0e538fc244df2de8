-- Channel assets: every file or recording link replay cannot carry into
-- Intercom as a file, with the record that owns it, the case it belongs to
-- when known, and where in Intercom it should be re-linked. {{name}} stands
-- for a relation of the staging database (empty when the snapshot lacks it);
-- {{cap}} is the per-file cap in bytes. Links lose their query string, which
-- may hold a signature.
with activity_regarding as (
    select activityid, _regardingobjectid_value__lookuplogicalname as regarding_table,
        _regardingobjectid_value as regarding_id
    from {{email}}
    union all
    select activityid, _regardingobjectid_value__lookuplogicalname, _regardingobjectid_value from {{phonecall}}
    union all
    select activityid, _regardingobjectid_value__lookuplogicalname, _regardingobjectid_value from {{task}}
    union all
    select activityid, _regardingobjectid_value__lookuplogicalname, _regardingobjectid_value from {{appointment}}
    union all
    select activityid, _regardingobjectid_value__lookuplogicalname, _regardingobjectid_value from {{liveworkitem}}
),
notes as (
    select annotationid, filename,
        coalesce(_objectid_value__lookuplogicalname, objecttypecode) as owner_table,
        _objectid_value as owner_id,
        coalesce(documentbody__size, filesize) as size_bytes,
        documentbody__error as error
    from {{annotation}}
),
attachments as (
    select activitymimeattachmentid, filename,
        coalesce(nullif(_objectid_value__lookuplogicalname, 'activitypointer'), objecttypecode) as owner_table,
        _objectid_value as owner_id,
        coalesce(body__size, filesize) as size_bytes,
        body__error as error
    from {{activitymimeattachment}}
),
-- how transform sent a file over the cap (staging without stage.attachments: unknown).
sent as (
    select source_table, source_id,
        'sent split into ' || max(chunk_count) || ' numbered parts on ' || any_value(part_source_table)
            || ' ' || any_value(part_source_id) as how
    from {{staged_attachments}}
    group by source_table, source_id
    having max(chunk_count) > 1
),
assets as (
    select 'recording' as kind, 'msdyn_ocrecording' as source_table, msdyn_ocrecordingid as source_id,
        msdyn_name as file_name, msdyn_recording__size as size_bytes,
        coalesce('download failed: ' || msdyn_recording__error, 'voice recording') as reason,
        regexp_replace(msdyn_mediauri, '[?#].*$', '') as link,
        'msdyn_ocliveworkitem' as owner_table, _msdyn_liveworkitemid_value as owner_id
    from {{recording}}
    union all
    select 'transcript', 'msdyn_transcript', t.msdyn_transcriptid, coalesce(n.filename, t.msdyn_name),
        n.size_bytes, coalesce('download failed: ' || n.error, 'chat transcript'), null,
        'msdyn_ocliveworkitem', t._msdyn_liveworkitemidid_value
    from {{transcript}} t
    left join notes n on n.owner_table = 'msdyn_transcript' and n.owner_id = t.msdyn_transcriptid
    -- a transcript whose messages became conversation parts is not left behind.
    where t.msdyn_transcriptid not in (select source_id from {{out_of_scope}}
        where source_table = 'msdyn_transcript' and reason like 'consumed:%')
    union all
    select 'chat_file', 'annotation', annotationid, filename, size_bytes,
        coalesce('download failed: ' || error, 'file shared in an Omnichannel conversation'), null,
        owner_table, owner_id
    from notes
    where owner_table = 'msdyn_ocliveworkitem'
    union all
    -- a file a transcript message names whose note the snapshot lacks.
    select 'chat_file', 'msdyn_transcript', f.message_id || '/' || coalesce(f.file_id, f.file_name, ''),
        f.file_name, null::bigint,
        'file shared in an Omnichannel chat: its transcript names it, the snapshot holds no note with it',
        null, 'msdyn_ocliveworkitem', f.item_id
    from {{omnichannel_files}} f
    where f.annotationid is null or f.annotationid not in (select annotationid from notes)
    union all
    {{phonecall_links}}
    union all
    select case when n.error is not null then 'attachment_failed' else 'attachment_over_cap' end,
        'annotation', n.annotationid, n.filename, n.size_bytes,
        coalesce('download failed: ' || n.error, 'larger than the cap' || coalesce(': ' || sent.how, '')),
        null, n.owner_table, n.owner_id
    from notes n
    left join sent on sent.source_table = 'annotation' and sent.source_id = n.annotationid
    where coalesce(n.owner_table, '') not in ('msdyn_transcript', 'msdyn_ocliveworkitem')
        and (n.error is not null or n.size_bytes > {{cap}})
    union all
    select case when a.error is not null then 'attachment_failed' else 'attachment_over_cap' end,
        'activitymimeattachment', a.activitymimeattachmentid, a.filename, a.size_bytes,
        coalesce('download failed: ' || a.error, 'larger than the cap' || coalesce(': ' || sent.how, '')),
        null, a.owner_table, a.owner_id
    from attachments a
    left join sent on sent.source_table = 'activitymimeattachment' and sent.source_id = a.activitymimeattachmentid
    where a.error is not null or a.size_bytes > {{cap}}
    union all
    -- files transform rejected for another reason than a failed download.
    select 'attachment_failed', r.source_table, r.source_id, a.filename, a.size_bytes, r.reason, null,
        a.owner_table, a.owner_id
    from {{attachment_rejects}} r
    join attachments a on a.activitymimeattachmentid = r.source_id
    where r.rule <> 'download_failed'
    union all
    -- files of notes on contacts and accounts: a note on a user takes no
    -- file, and Intercom has no notes on companies.
    select 'attachment_not_migrated', 'annotation', n.annotationid, n.filename, n.size_bytes,
        case n.owner_table
            when 'contact' then 'note on a contact: its text is a note on the Intercom user, which takes no files'
            else 'note on an account: Intercom''s API has no notes on companies'
        end, null,
        n.owner_table, n.owner_id
    from notes n
    where n.owner_table in ('contact', 'account') and n.error is null and coalesce(n.size_bytes, 0) > 0
        and n.size_bytes <= {{cap}}
),
located as (
    select a.*,
        case
            when a.owner_table = 'incident' then a.owner_id
            when r.regarding_table = 'incident' then r.regarding_id
        end as case_id
    from assets a
    left join activity_regarding r on r.activityid = a.owner_id
),
-- a contact deduped into another lands on the survivor
contact_ids as (
    select source_id as contact_id, source_id as survivor_id from {{contacts}}
    union all
    select unnest(merged_source_ids), source_id from {{contacts}}
)
select
    l.kind, l.source_table, l.source_id, l.file_name, cast(l.size_bytes as varchar) as size_bytes,
    l.reason, l.link, l.owner_table, l.owner_id, l.case_id, i.ticketnumber as case_number,
    case
        when c.source_id is not null then 'conversation'
        when ct.survivor_id is not null then 'contact'
        when co.source_id is not null then 'company'
        when ad.source_id is not null then 'admin'
        else 'owner not staged'
    end as lands_on,
    coalesce(c.source_id, ct.survivor_id, co.source_id, ad.source_id) as lands_on_id
from located l
left join {{incident}} i on i.incidentid = l.case_id
-- an Omnichannel conversation on no case is a conversation of its own.
left join {{conversations}} c on c.source_id = coalesce(l.case_id,
    case when l.owner_table = 'msdyn_ocliveworkitem' then l.owner_id end)
left join contact_ids ct on l.owner_table = 'contact' and ct.contact_id = l.owner_id
left join {{companies}} co on l.owner_table = 'account' and co.source_id = l.owner_id
left join {{admins}} ad on l.owner_table = 'systemuser' and ad.source_id = l.owner_id
order by l.kind, l.source_table, l.source_id;
