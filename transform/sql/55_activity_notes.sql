-- Phone calls, tasks and appointments regarding a case become internal notes
-- on its conversation (temp part_candidates, ordered with the emails by
-- 58_parts_order.sql). The note's text carries what Intercom has no field
-- for: direction, number, duration and status of a call; due date, priority
-- and progress of a task; time, place and attendees of an appointment.
-- Notes are written by the activity's owner when that agent is migrated,
-- else by the case owner; with neither, the activity is rejected no_admin.

create or replace temp table appointment_attendees as
select
    _activityid_value as activityid,
    string_agg(coalesce(_partyid_value__formatted, addressused), ', '
        order by participationtypemask, coalesce(_partyid_value__formatted, addressused)) as names
from activityparty_rows
-- 5 required attendee, 6 optional attendee, 7 organizer.
where participationtypemask in (5, 6, 7)
group by _activityid_value;

create or replace temp macro note_time(t) as
    case when t is null then 'not set' else strftime(t at time zone 'UTC', '%Y-%m-%d %H:%M UTC') end;

create or replace temp table activity_notes as
select
    'phonecall' as source_table,
    activityid,
    _regardingobjectid_value as regarding_id,
    _regardingobjectid_value__lookuplogicalname as regarding_type,
    _ownerid_value as owner_id,
    _ownerid_value__lookuplogicalname as owner_type,
    coalesce(actualend, actualstart, createdon) as noted_at,
    concat_ws(chr(10),
        'Phone call (' || case when directioncode then 'outgoing' else 'incoming' end || '): '
            || coalesce(subject, '(no subject)'),
        'Number: ' || coalesce(phonenumber, 'not recorded'),
        'Duration: ' || coalesce(actualdurationminutes || ' min', 'not recorded'),
        'Status: ' || coalesce(statuscode__label, statecode__label, 'unknown'),
        'When: ' || note_time(coalesce(actualstart, scheduledstart, createdon))) as header,
    description
from phonecall_rows
union all
select
    'task',
    activityid,
    _regardingobjectid_value,
    _regardingobjectid_value__lookuplogicalname,
    _ownerid_value,
    _ownerid_value__lookuplogicalname,
    createdon,
    concat_ws(chr(10),
        'Task: ' || coalesce(subject, '(no subject)'),
        'Due: ' || note_time(scheduledend),
        'Priority: ' || coalesce(prioritycode__label, 'not set'),
        'Status: ' || coalesce(statuscode__label, statecode__label, 'unknown')
            || coalesce(' (' || percentcomplete || '% complete)', ''),
        case when actualend is not null then 'Completed: ' || note_time(actualend) end),
    description
from task_rows
union all
select
    'appointment',
    a.activityid,
    a._regardingobjectid_value,
    a._regardingobjectid_value__lookuplogicalname,
    a._ownerid_value,
    a._ownerid_value__lookuplogicalname,
    a.createdon,
    concat_ws(chr(10),
        'Appointment: ' || coalesce(a.subject, '(no subject)'),
        'Start: ' || note_time(a.scheduledstart),
        'End: ' || note_time(a.scheduledend) || case when a.isalldayevent then ' (all day)' else '' end,
        'Location: ' || coalesce(a.location, 'not set'),
        'Attendees: ' || coalesce(att.names, 'none recorded'),
        'Status: ' || coalesce(a.statuscode__label, a.statecode__label, 'unknown')),
    a.description
from appointment_rows a
left join appointment_attendees att on att.activityid = a.activityid;

create or replace temp table activity_note_fate as
select
    n.*,
    c.source_id as conversation_source_id,
    c.ord as conversation_ord,
    coalesce(oa.source_id, c.admin_source_id) as admin_source_id,
    oa.source_id is null and c.admin_source_id is not null as owner_substituted,
    text_to_html(n.header) || coalesce(body_html(n.description), '') as body,
    case
        -- TODO: notes on the user or company for activities regarding a contact or account (contact notes API).
        when n.regarding_type is distinct from 'incident' or n.regarding_id is null then 'not_case'
        when c.source_id is null and exists (
            select 1 from rejects.conversations r where r.source_id = n.regarding_id) then 'parent_rejected'
        when c.source_id is null then 'parent_missing'
        when coalesce(oa.source_id, c.admin_source_id) is null then 'no_admin'
    end as fate
from activity_notes n
left join stage.conversations c on c.source_id = n.regarding_id and n.regarding_type = 'incident'
left join stage.admins oa on oa.source_id = n.owner_id and n.owner_type = 'systemuser';

insert into part_candidates
select source_table, activityid, conversation_source_id, conversation_ord, 'admin', null,
    admin_source_id, 'note', body, noted_at
from activity_note_fate
where fate is null;

insert into reports.notes
select 'conversation_parts', source_table, activityid,
    'owner is not a migrated agent: note written by the case owner'
from activity_note_fate
where fate is null and owner_substituted
order by source_table, activityid;

insert into rejects.conversation_parts
select source_table, activityid, fate,
    case fate
        when 'parent_rejected' then 'the case this activity is about was rejected'
        when 'parent_missing' then 'the case this activity is about is not in the snapshot'
        else 'neither the activity owner nor the case owner is a migrated agent'
    end,
    regarding_id
from activity_note_fate
where fate in ('parent_rejected', 'parent_missing', 'no_admin')
order by source_table, activityid;

insert into reports.out_of_scope
select source_table, activityid, 'activity not regarding a case (notes on users and companies are not migrated yet)'
from activity_note_fate
where fate = 'not_case'
order by source_table, activityid;
