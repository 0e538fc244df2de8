-- Notes (annotation) and e-mail attachments (activitymimeattachment).
-- A note on a case becomes an internal note on its conversation (temp
-- part_candidates, ordered by 58_parts_order.sql), written by the note's
-- owner when migrated, else by the case owner. Its file, and every file of a
-- migrated e-mail, rides on that part as an attachment (stage.attachments,
-- built by 59_attachments.sql once parts are ordered). Intercom takes at most
-- 10 files a reply (spec §16): the rest go on further parts right after, in
-- order. A file over attachment_rule.max_bytes is split into numbered parts
-- (over_limit split) or left for the channel-asset report (list). A note on
-- a contact becomes a note on its user (57_contact_annotations.sql); Intercom
-- has no notes on companies, so a note on an account is out of scope.

-- the mapping's rule (transform/attachments.go) or the proposed default.
create temp table if not exists attachment_rule as
select cast(10485760 as bigint) as max_bytes, 'split' as over_limit;

-- replay reads the bytes from snapshot_dir/blob_path, else (a delta's file
-- unchanged since its base) from the first of blob_dirs that has it.
create table reports.attachment_rule as
select r.max_bytes, r.over_limit, d.dir as snapshot_dir
from attachment_rule r cross join (select dir from snap_chain where ord = 1) d;

create table reports.blob_dirs as
select dir, ord from snap_chain order by ord;

create or replace temp table annotation_fate as
select
    a.annotationid,
    a.subject,
    a.notetext,
    coalesce(a._objectid_value__lookuplogicalname, a.objecttypecode) as owner_table,
    a._objectid_value as owner_id,
    coalesce(a.isdocument, false) or a.documentbody__sha256 is not null
        or coalesce(a.documentbody__size, a.filesize, 0) > 0 as has_file,
    a.createdon,
    c.source_id as conversation_source_id,
    c.ord as conversation_ord,
    coalesce(oa.source_id, c.admin_source_id) as admin_source_id,
    oa.source_id is null and c.admin_source_id is not null as owner_substituted,
    case
        when coalesce(a._objectid_value__lookuplogicalname, a.objecttypecode) = 'contact' then 'contact_note'
        when coalesce(a._objectid_value__lookuplogicalname, a.objecttypecode) = 'account' then 'company_note'
        when coalesce(a._objectid_value__lookuplogicalname, a.objecttypecode) is distinct from 'incident'
            or a._objectid_value is null then 'not_case'
        when c.source_id is null and exists (
            select 1 from rejects.conversations r where r.source_id = a._objectid_value) then 'parent_rejected'
        when c.source_id is null then 'parent_missing'
        when coalesce(oa.source_id, c.admin_source_id) is null then 'no_admin'
    end as fate
from annotation_rows a
left join stage.conversations c on c.source_id = a._objectid_value
    and coalesce(a._objectid_value__lookuplogicalname, a.objecttypecode) = 'incident'
left join stage.admins oa on oa.source_id = a._ownerid_value and a._ownerid_value__lookuplogicalname = 'systemuser';

-- every file that could ride on a part: e-mail attachments, and the files of
-- case notes that are staged. carrier_* is the part it belongs to.
create or replace temp table attachment_file as
select
    'activitymimeattachment' as source_table,
    m.activitymimeattachmentid as source_id,
    coalesce(nullif(m._objectid_value__lookuplogicalname, 'activitypointer'), m.objecttypecode) as owner_table,
    m._objectid_value as owner_id,
    'email' as carrier_table,
    m._objectid_value as carrier_id,
    coalesce(m.attachmentnumber, 0) as seq,
    m.filename, m.mimetype,
    m.body__sha256 as sha256,
    coalesce(m.body__size, m.filesize) as size_bytes,
    m.body__error as error
from activitymimeattachment_rows m
union all
select 'annotation', a.annotationid, 'incident', a._objectid_value, 'annotation', a.annotationid, 1,
    a.filename, a.mimetype, a.documentbody__sha256, coalesce(a.documentbody__size, a.filesize),
    a.documentbody__error
from annotation_rows a
join annotation_fate f on f.annotationid = a.annotationid
where f.fate is null and f.has_file;

create or replace temp table attachment_file_fate as
select
    f.*,
    case
        when f.source_table = 'activitymimeattachment' and f.owner_table is distinct from 'email' then 'not_email'
        when f.source_table = 'activitymimeattachment' and not exists (
            select 1 from part_candidates p where p.source_table = 'email' and p.source_id = f.carrier_id)
            then 'email_not_migrated'
        when f.error is not null then 'download_failed'
        when coalesce(f.size_bytes, 0) <= 0 then 'empty_file'
        when f.sha256 is null then 'missing_blob'
        when f.size_bytes > r.max_bytes and r.over_limit = 'list' then 'over_cap_listed'
    end as fate,
    cast(ceil(f.size_bytes / r.max_bytes) as integer) as chunk_count,
    r.max_bytes
from attachment_file f
cross join attachment_rule r;

-- a case note's text: its subject and text, then a line naming its file, so
-- that a file left behind is still visible on the conversation.
insert into part_candidates by name
select
    'annotation' as source_table,
    n.annotationid as source_id,
    n.conversation_source_id,
    n.conversation_ord,
    'admin' as author_type,
    null as contact_source_id,
    n.admin_source_id,
    'note' as message_type,
    text_to_html('Note: ' || coalesce(nullif(trim(n.subject), ''), '(no subject)'))
        || coalesce(body_html(n.notetext), '')
        || coalesce(text_to_html(case
            when f.source_id is null then null
            when f.fate is null then 'File: ' || coalesce(f.filename, '(no name)')
            when f.fate = 'over_cap_listed' then 'File not attached (larger than the cap, listed in the '
                || 'channel-asset report): ' || coalesce(f.filename, '(no name)')
            else 'File not attached (' || f.fate || '): ' || coalesce(f.filename, '(no name)')
        end), '') as body,
    n.createdon as sent_at
from annotation_fate n
left join attachment_file_fate f on f.source_table = 'annotation' and f.source_id = n.annotationid
where n.fate is null;

-- one row per file sent: a whole file, or one numbered part of a split one.
create or replace temp table attachment_piece as
with pieces as (
    select f.*, unnest(generate_series(1, greatest(f.chunk_count, 1))) as chunk_no
    from attachment_file_fate f
    where f.fate is null
)
select
    p.source_table, p.source_id, p.carrier_table, p.carrier_id, p.seq, p.chunk_no,
    p.chunk_count,
    safe_filename(p.filename, 'attachment-' || p.seq)
        || case when p.chunk_count > 1 then '.part' || p.chunk_no || 'of' || p.chunk_count else '' end
        as file_name,
    p.filename as original_file_name,
    -- a part of a file is not a file of its type.
    case when p.chunk_count > 1 then 'application/octet-stream'
        when regexp_full_match(coalesce(trim(p.mimetype), ''), '[\w.+-]+/[\w.+-]+') then lower(trim(p.mimetype))
        else 'application/octet-stream' end as content_type,
    p.mimetype as original_content_type,
    cast((p.chunk_no - 1) * p.max_bytes as bigint) as blob_offset,
    cast(least(p.max_bytes, p.size_bytes - (p.chunk_no - 1) * p.max_bytes) as bigint) as size_bytes,
    cast(p.size_bytes as bigint) as file_size_bytes,
    lower(p.sha256) as sha256,
    'blobs/sha256/' || left(lower(p.sha256), 2) || '/' || substr(lower(p.sha256), 3) as blob_path
from pieces p;

-- at most 10 files a part (spec §16): batch 1 rides on the carrier part
-- itself, batch n on an extra part posted right after it.
create or replace temp table attachment_batched as
with numbered as (
    select a.*,
        row_number() over (partition by a.carrier_table, a.carrier_id
            order by a.seq, a.source_id, a.chunk_no) as idx,
        count(*) over (partition by a.carrier_table, a.carrier_id) as total
    from attachment_piece a
)
select n.*,
    cast((n.idx - 1) // 10 + 1 as integer) as batch,
    cast((n.idx - 1) % 10 + 1 as integer) as position,
    case when (n.idx - 1) // 10 = 0 then n.carrier_table else 'attachment_overflow' end as part_source_table,
    case when (n.idx - 1) // 10 = 0 then n.carrier_id
        else n.carrier_id || '/attachments-' || ((n.idx - 1) // 10 + 1) end as part_source_id
from numbered n;

-- the extra parts: same author and kind as the carrier, a millisecond apart
-- so that they follow it. source_table attachment_overflow is no Dataverse
-- table: these parts carry files, the reconciliation counts the files.
create or replace temp table attachment_overflow_part as
with batches as (
    select carrier_table, carrier_id, part_source_table, part_source_id, batch,
        min(idx) as lo, max(idx) as hi, any_value(total) as total
    from attachment_batched
    where batch > 1
    group by all
)
select
    b.part_source_table as source_table,
    b.part_source_id as source_id,
    p.conversation_source_id, p.conversation_ord, p.author_type, p.contact_source_id, p.admin_source_id,
    p.message_type,
    text_to_html('Attachments ' || b.lo || '–' || b.hi || ' of ' || b.total
        || ' (continued from the previous message)') as body,
    p.sent_at + to_milliseconds(b.batch - 1) as sent_at
from batches b
join part_candidates p on p.source_table = b.carrier_table and p.source_id = b.carrier_id;

insert into part_candidates by name
select * from attachment_overflow_part;

insert into reports.notes
select 'conversation_parts', 'annotation', annotationid,
    'owner is not a migrated agent: note written by the case owner'
from annotation_fate
where fate is null and owner_substituted
order by annotationid;

insert into reports.notes
select 'attachments', 'annotation', source_id, case fate
        when 'over_cap_listed' then 'file larger than ' || max_bytes || ' bytes: listed in the channel-asset report'
        when 'download_failed' then 'file download failed in the snapshot: not attached'
        when 'empty_file' then 'file is empty: not attached'
        else 'file is not in the blob store: not attached'
    end
from attachment_file_fate
where source_table = 'annotation' and fate is not null
order by source_id;

insert into reports.notes
select 'attachments', source_table, source_id,
    'file of ' || file_size_bytes || ' bytes split into ' || chunk_count || ' parts over the cap'
from attachment_piece
where chunk_no = 1 and chunk_count > 1
order by source_table, source_id;

insert into rejects.conversation_parts
select 'annotation', annotationid, fate,
    case fate
        when 'parent_rejected' then 'the case this note is about was rejected'
        when 'parent_missing' then 'the case this note is about is not in the snapshot'
        else 'neither the note owner nor the case owner is a migrated agent'
    end,
    owner_id
from annotation_fate
where fate in ('parent_rejected', 'parent_missing', 'no_admin')
order by annotationid;

insert into reports.out_of_scope
select 'annotation', annotationid, case
        when fate = 'company_note' then 'note on an account: Intercom''s API has no notes on companies '
            || '(a file on it is listed in the channel-asset report)'
        -- 56_omnichannel.sql reads transcript notes for their messages.
        when owner_table = 'msdyn_transcript' then 'consumed: a transcript''s messages are conversation parts '
            || '(see msdyn_transcript)'
        when owner_table = 'msdyn_ocliveworkitem' then 'file shared in an Omnichannel conversation: listed in '
            || 'the channel-asset report'
        else 'note not about a case, contact or account'
    end
from annotation_fate
where fate in ('company_note', 'not_case')
order by annotationid;

create table rejects.attachments as
select source_table, source_id, fate as rule,
    case fate
        when 'download_failed' then 'the snapshot could not download the file: ' || error
        when 'empty_file' then 'the file is empty (size 0)'
        else 'the file is not in the blob store (no sha256): snapshot taken without files?'
    end as reason,
    carrier_id as context
from attachment_file_fate
where source_table = 'activitymimeattachment' and fate in ('download_failed', 'empty_file', 'missing_blob')
order by source_id;

insert into reports.out_of_scope
select source_table, source_id, case fate
        when 'not_email' then 'attached to a record of table ' || coalesce(owner_table, 'unknown') || ', not an email'
        when 'email_not_migrated' then 'its email is not migrated (see the email''s fate)'
        else 'file larger than ' || max_bytes || ' bytes: listed in the channel-asset report'
    end
from attachment_file_fate
where source_table = 'activitymimeattachment' and fate in ('not_email', 'email_not_migrated', 'over_cap_listed')
order by source_id;
