-- Notes (annotation) on a contact become notes on its Intercom user, like
-- phone calls on no case (55_activity_notes.sql): subject and text, and a
-- line naming the note's file, which a note on a user cannot carry (the file
-- is listed in the channel-asset report). The notes of a contact merged into
-- another go to the survivor. Written by the note's owner when a migrated
-- agent, else by the token's admin.
create or replace temp table annotation_contact_fate as
select
    n.annotationid,
    n.owner_id as contactid,
    cm.survivor_id as contact_source_id,
    n.admin_source_id,
    n.createdon,
    n.subject,
    n.notetext,
    n.has_file,
    case
        when cm.survivor_id is not null then null
        when n.owner_id in (select source_id from rejects.contacts) then 'parent_rejected'
        else 'parent_missing'
    end as fate
from annotation_fate n
left join contact_map cm on cm.contactid = n.owner_id
where n.fate = 'contact_note';

insert into stage.contact_notes by name
select
    'annotation' as source_table,
    f.annotationid as source_id,
    f.contact_source_id,
    f.admin_source_id,
    text_to_html('Note: ' || coalesce(nullif(trim(f.subject), ''), '(no subject)'))
        || coalesce(body_html(f.notetext), '')
        || coalesce(text_to_html(case when f.has_file then 'File not attached (a note on a user takes no '
            || 'files; listed in the channel-asset report): ' || coalesce(a.filename, '(no name)') end), '')
        as body,
    unix_s(f.createdon) as created_at,
    0 as ord
from annotation_contact_fate f
join annotation_rows a on a.annotationid = f.annotationid
where f.fate is null;

-- replay sends one contact's notes in one task, in this order.
create or replace table stage.contact_notes as
select n.* exclude (ord),
    row_number() over (order by k.ord, n.created_at nulls last, n.source_table, n.source_id) as ord
from stage.contact_notes n
join stage.contacts k on k.source_id = n.contact_source_id
order by ord;

insert into rejects.contact_notes
select 'annotation', annotationid, fate,
    case fate
        when 'parent_rejected' then 'the contact this note is about was rejected (see rejects.contacts)'
        else 'the contact this note is about is not in the snapshot'
    end,
    contactid
from annotation_contact_fate
where fate is not null
order by annotationid;
