-- Builds the email parts (temp part_candidates) and rejects.conversation_parts from
-- email_rows regarding a case, with authors from activityparty_rows (senders),
-- contact_map, stage.admins and stage.conversations. Emails about anything
-- else, and all activityparty rows (consumed here), are counted out of scope.
--
-- Bodies are the bulk of the org (a million HTML emails), so the fate tables
-- carry ids only and an email is sanitised once, and only when it is staged:
-- drafts, out-of-scope and rejected emails never reach the sanitiser.

-- the sender party of each email (participationtypemask 1); the smallest id if several.
create or replace temp table email_sender as
select
    _activityid_value as activityid,
    arg_min(_partyid_value, activitypartyid) as party_id,
    arg_min(_partyid_value__lookuplogicalname, activitypartyid) as party_type,
    arg_min(addressused, activitypartyid) as address_used
from activityparty_rows
where participationtypemask = 1
group by _activityid_value;

create or replace temp table email_resolved as
select
    e.activityid,
    e._regardingobjectid_value as incidentid,
    coalesce(e.directioncode, true) as outgoing,
    coalesce(e.actualend, e.senton, e.createdon) as sent_at,
    c.source_id as conversation_source_id,
    c.ord as conversation_ord,
    s.party_id is null and s.activityid is not null as sender_unresolved,
    s.address_used,
    case when not coalesce(e.directioncode, true) then coalesce(sm.survivor_id, c.contact_source_id) end
        as contact_source_id,
    case when coalesce(e.directioncode, true) then coalesce(sa.source_id, c.admin_source_id) end
        as admin_source_id,
    case
        when e._regardingobjectid_value__lookuplogicalname is distinct from 'incident'
            or e._regardingobjectid_value is null then 'out_of_scope'
        -- statecode 0 Open (draft, failed) and 2 Canceled: never sent or received.
        when e.statecode in (0, 2) then 'unsent'
        when c.source_id is not null then null
        when exists (select 1 from rejects.conversations r where r.source_id = e._regardingobjectid_value)
            then 'parent_rejected'
        else 'parent_missing'
    end as parent_fate
from email_rows e
left join stage.conversations c
    on c.source_id = e._regardingobjectid_value
    and e._regardingobjectid_value__lookuplogicalname = 'incident'
left join email_sender s on s.activityid = e.activityid
left join contact_map sm on sm.contactid = s.party_id and s.party_type = 'contact'
left join stage.admins sa on sa.source_id = s.party_id and s.party_type = 'systemuser';

create or replace temp table email_fate as
select
    r.*,
    case
        when r.parent_fate is not null then r.parent_fate
        when r.outgoing and r.admin_source_id is null then 'no_admin'
    end as fate
from email_resolved r;

-- the parts this file contributes; 58_parts_order.sql orders them together
-- with the activity notes of 55_activity_notes.sql. The body is sanitised
-- here, once, straight into the part; an email that has neither body nor
-- subject is noted in email_empty and taken out again.
create or replace temp table part_candidates as
select
    'email' as source_table,
    f.activityid as source_id,
    f.conversation_source_id,
    f.conversation_ord,
    case when f.outgoing then 'admin' else 'contact' end as author_type,
    f.contact_source_id,
    f.admin_source_id,
    'comment' as message_type,
    coalesce(nullif(body_html(e.description), ''), nullif(text_to_html(e.subject), '')) as body,
    f.sent_at
from email_fate f
join email_rows e on e.activityid = f.activityid
where f.fate is null;

create or replace temp table email_empty as
select source_id as activityid from part_candidates where body is null;

delete from part_candidates where body is null;

insert into reports.notes
select 'conversation_parts', 'email', activityid,
    'sender has no partyid: attributed to the conversation contact (address used: '
        || coalesce(address_used, 'none') || ')'
from email_fate
where fate is null and sender_unresolved and not outgoing
    and activityid not in (select activityid from email_empty)
order by activityid;

insert into reports.notes
select 'conversation_parts', 'email', activityid,
    'sender is not a migrated agent: attributed to the case owner'
from email_fate f
where fate is null and outgoing and admin_source_id is not null
    and activityid not in (select activityid from email_empty)
    and not exists (
        select 1 from email_sender e join stage.admins a on a.source_id = e.party_id
        where e.activityid = f.activityid)
order by activityid;

create table rejects.conversation_parts as
select
    'email' as source_table,
    activityid as source_id,
    coalesce(fate, 'empty_body') as rule,
    case coalesce(fate, 'empty_body')
        when 'parent_rejected' then 'the case this email is about was rejected'
        when 'parent_missing' then 'the case this email is about is not in the snapshot'
        when 'no_admin' then 'outgoing email: sender is not a migrated agent and the case has no owning agent'
        else 'email has neither body nor subject'
    end as reason,
    incidentid as context
from email_fate f
where fate not in ('out_of_scope', 'unsent') or activityid in (select activityid from email_empty)
order by activityid;

insert into reports.out_of_scope
select 'email', activityid, case fate
        when 'unsent' then 'email never sent or received (draft, failed or cancelled)'
        else 'email not regarding a case'
    end
from email_fate
where fate in ('out_of_scope', 'unsent')
order by activityid;

insert into reports.out_of_scope
select 'activityparty', activitypartyid, 'consumed as email and appointment participants'
from activityparty_rows
order by activitypartyid;
