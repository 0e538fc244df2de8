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
    union all
    select 'chat_file', 'annotation', annotationid, filename, size_bytes,
        coalesce('download failed: ' || error, 'file shared in an Omnichannel conversation'), null,
        owner_table, owner_id
    from notes
    where owner_table = 'msdyn_ocliveworkitem'
    union all
    {{phonecall_links}}
    union all
    select case when error is not null then 'attachment_failed' else 'attachment_over_cap' end,
        'annotation', annotationid, filename, size_bytes,
        coalesce('download failed: ' || error, 'larger than the cap'), null, owner_table, owner_id
    from notes
    where coalesce(owner_table, '') not in ('msdyn_transcript', 'msdyn_ocliveworkitem')
        and (error is not null or size_bytes > {{cap}})
    union all
    select case when error is not null then 'attachment_failed' else 'attachment_over_cap' end,
        'activitymimeattachment', activitymimeattachmentid, filename, size_bytes,
        coalesce('download failed: ' || error, 'larger than the cap'), null, owner_table, owner_id
    from attachments
    where error is not null or size_bytes > {{cap}}
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
left join {{conversations}} c on c.source_id = l.case_id
left join contact_ids ct on l.owner_table = 'contact' and ct.contact_id = l.owner_id
left join {{companies}} co on l.owner_table = 'account' and co.source_id = l.owner_id
left join {{admins}} ad on l.owner_table = 'systemuser' and ad.source_id = l.owner_id
order by l.kind, l.source_table, l.source_id;
