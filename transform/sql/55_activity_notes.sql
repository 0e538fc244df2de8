-- Phone calls, tasks and appointments regarding a case become internal notes
-- on its conversation (temp part_candidates, ordered with the emails by
-- 58_parts_order.sql). The note's text carries what Intercom has no field
-- for: direction, number, duration and status of a call; due date, priority
-- and progress of a task; time, place and attendees of an appointment.
-- Notes are written by the activity's owner when that agent is migrated,
-- else by the case owner; with neither, the activity is rejected no_admin.
--
-- A phone call on no case becomes a note on the contact it concerns
-- (stage.contact_notes): its regarding contact, else the contact on the
-- customer's side of the call. Tasks and appointments on no case, and calls
-- with no contact, stay out of scope. Bodies are sanitised only for the
-- rows that are staged.

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

-- the contact party of each phone call: the caller of an incoming call, the
-- callee of an outgoing one, else any contact party; the smallest id if several.
create or replace temp table phonecall_party_contact as
select p._activityid_value as activityid, p._partyid_value as contactid
from activityparty_rows p
join phonecall_rows c on c.activityid = p._activityid_value
-- 1 sender (caller), 2 to recipient (callee).
where p.participationtypemask in (1, 2) and p._partyid_value__lookuplogicalname = 'contact'
    and p._partyid_value is not null
qualify row_number() over (partition by p._activityid_value
    order by p.participationtypemask is distinct from (case when c.directioncode then 2 else 1 end),
        p.activitypartyid) = 1;

create or replace temp table activity_note_fate as
select
    n.* exclude (description),
    c.source_id as conversation_source_id,
    c.ord as conversation_ord,
    coalesce(oa.source_id, c.admin_source_id) as admin_source_id,
    oa.source_id is null and c.admin_source_id is not null as owner_substituted,
    nc.contactid as note_contact_id,
    cm.survivor_id as contact_source_id,
    oa.source_id as owner_admin_id,
    case
        when n.regarding_type is distinct from 'incident' or n.regarding_id is null then
            case
                when nc.contactid is null then 'not_case'
                when cm.survivor_id is not null then 'contact_note'
                when nc.contactid in (select source_id from rejects.contacts) then 'contact_rejected'
                else 'contact_missing'
            end
        when c.source_id is null and exists (
            select 1 from rejects.conversations r where r.source_id = n.regarding_id) then 'parent_rejected'
        when c.source_id is null then 'parent_missing'
        when coalesce(oa.source_id, c.admin_source_id) is null then 'no_admin'
    end as fate
from activity_notes n
left join stage.conversations c on c.source_id = n.regarding_id and n.regarding_type = 'incident'
left join stage.admins oa on oa.source_id = n.owner_id and n.owner_type = 'systemuser'
-- only phone calls become contact notes (issue 4): tasks and appointments on no case stay out of scope.
left join phonecall_party_contact pc on n.source_table = 'phonecall' and pc.activityid = n.activityid
cross join lateral (select case when n.source_table = 'phonecall' then
    coalesce(case when n.regarding_type = 'contact' then n.regarding_id end, pc.contactid) end as contactid) nc
left join contact_map cm on cm.contactid = nc.contactid;

-- the note text of the staged rows only: the sanitiser is the costly part.
create or replace temp macro note_body(header, description) as
    text_to_html(header) || coalesce(body_html(description), '');

insert into part_candidates
select f.source_table, f.activityid, f.conversation_source_id, f.conversation_ord, 'admin', null,
    f.admin_source_id, 'note', note_body(n.header, n.description), f.noted_at
from activity_note_fate f
join activity_notes n using (source_table, activityid)
where f.fate is null;

create table stage.contact_notes as
select
    f.source_table,
    f.activityid as source_id,
    f.contact_source_id,
    f.owner_admin_id as admin_source_id,
    note_body(n.header, n.description) as body,
    unix_s(f.noted_at) as created_at,
    row_number() over (order by k.ord, f.noted_at nulls last, f.activityid) as ord
from activity_note_fate f
join activity_notes n using (source_table, activityid)
join stage.contacts k on k.source_id = f.contact_source_id
where f.fate = 'contact_note'
order by ord;

create table rejects.contact_notes as
select source_table, activityid as source_id,
    case fate when 'contact_rejected' then 'parent_rejected' else 'parent_missing' end as rule,
    case fate
        when 'contact_rejected' then 'the contact this phone call is about was rejected (see rejects.contacts)'
        else 'the contact this phone call is about is not in the snapshot'
    end as reason,
    note_contact_id as context
from activity_note_fate
where fate in ('contact_rejected', 'contact_missing')
order by source_table, activityid;

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
select source_table, activityid, case source_table
        when 'phonecall' then 'phone call regarding neither a case nor a contact (notes on companies are not migrated yet)'
        else 'activity not regarding a case (notes on users and companies are not migrated yet)'
    end
from activity_note_fate
where fate = 'not_case'
order by source_table, activityid;
