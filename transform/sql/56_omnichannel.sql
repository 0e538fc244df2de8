-- Omnichannel conversations (msdyn_ocliveworkitem) and their transcripts
-- (msdyn_transcript, messages read by transform/transcripts.go into
-- oc_messages). A work item linked to a migrated case puts its messages on
-- that case's conversation, after a summary note (channel, queue, agents,
-- times); one on no case becomes a conversation of its own (source_table
-- msdyn_ocliveworkitem), its first customer message the body. Messages are
-- parts (temp part_candidates, ordered by 58_parts_order.sql) with
-- source_table msdyn_transcript_message: customer lines are contact
-- replies, agent lines admin replies (private ones notes), bot and system
-- lines notes. Sessions are consumed (their agents name the summary),
-- recordings and files shared in chats are listed for the channel-asset
-- report (reports.omnichannel_files). Every work item, session, transcript
-- and recording row is staged, rejected or out of scope with its reason.
-- Reads the oc_ tables, msdyn_*_rows, systemuser_rows, contact_map,
-- account_contact, stage.conversations, stage.contacts, stage.admins,
-- stage.teams and rejects.conversations.

insert into attribute_defs values
    ('conversation', 'dynamics_channel', 'string', 'Dynamics 365 Omnichannel channel (msdyn_channel labels)',
        'msdyn_ocliveworkitem', 'msdyn_channel'),
    ('conversation', 'dynamics_omnichannel_conversation_id', 'string',
        'Dynamics 365 Omnichannel conversation id (msdyn_ocliveworkitem activityid)',
        'msdyn_ocliveworkitem', 'activityid');

create or replace temp macro oc_time(t) as
    case when t is null then 'not recorded' else strftime(t at time zone 'UTC', '%Y-%m-%d %H:%M UTC') end;

-- the agents of each work item, in the order their sessions began.
create or replace temp table oc_session_agents as
select item_id, string_agg(agent, ', ' order by first_at, agent) as agents
from (
    select _msdyn_liveworkitemid_value as item_id,
        coalesce(_msdyn_activeagentid_value__formatted, _msdyn_activeagentid_value) as agent,
        min(coalesce(msdyn_sessioncreatedon, createdon)) as first_at
    from msdyn_ocsession_rows
    where _msdyn_activeagentid_value is not null
    group by all
)
group by item_id;

-- a systemuser by full name, when only one user has it: real transcripts may
-- name agents by an id that is not their systemuserid (an Azure AD object
-- id, which the snapshot does not read).
create or replace temp table oc_user_by_name as
select lower(trim(fullname)) as name, any_value(systemuserid) as systemuserid
from systemuser_rows
where not blank(fullname)
group by all
having count(*) = 1;

-- Each message with its speaker's role. Deleted messages are left out; a
-- message seen in two notes of one transcript is kept once.
create or replace temp table oc_msg as
select
    m.*,
    t._msdyn_liveworkitemidid_value as item_id,
    m.transcriptid || ':' || coalesce(m.message_id, m.annotationid || '#' || m.seq) as part_id,
    coalesce(m.sent_at, t.createdon) as msg_at,
    coalesce(u.systemuserid, case when cr.contactid is null then un.systemuserid end) as agent_user,
    case
        when m.is_control or m.sender_kind = 'none' or list_contains(m.tag_list, 'system') then 'system'
        when m.sender_kind = 'application' then 'bot'
        when coalesce(u.systemuserid, case when cr.contactid is null then un.systemuserid end) is not null
            then 'agent'
        else 'customer'
    end as role,
    list_contains(m.tag_list, 'private') as private
from (select *, list_transform(string_split(coalesce(tags, ''), ','), lambda x: trim(x)) as tag_list
      from oc_messages) m
join msdyn_transcript_rows t on t.msdyn_transcriptid = m.transcriptid
left join systemuser_rows u on u.systemuserid = m.sender_id
left join oc_user_by_name un on un.name = lower(trim(m.sender_name))
-- a contact is never taken for an agent of the same name.
left join contact_rows cr on cr.contactid = m.sender_id
where not coalesce(m.deleted, false)
qualify row_number() over (partition by m.transcriptid, coalesce(m.message_id, m.annotationid || '#' || m.seq)
    order by m.annotationid, m.seq) = 1;

create or replace temp table oc_first_customer as
select item_id, arg_min(part_id, (msg_at, part_id)) as part_id
from oc_msg
where role = 'customer' and not blank(content)
group by item_id;

-- Each work item with its case, contact, agent and fate.
create or replace temp table oc_item as
select
    w.activityid,
    coalesce(nullif(trim(w.msdyn_title), ''), nullif(trim(w.subject), ''), 'Omnichannel conversation') as title,
    coalesce(nullif(array_to_string(w.msdyn_channel__label, ', '), ''),
        nullif(array_to_string(list_transform(w.msdyn_channel, lambda x: cast(x as varchar)), ', '), '')) as channels,
    case when w._regardingobjectid_value__lookuplogicalname = 'incident' then w._regardingobjectid_value end
        as incidentid,
    coalesce(w.msdyn_createdon, w.createdon) as opened_at,
    w.msdyn_startedon,
    w.msdyn_closedon,
    w.modifiedon,
    w.statecode,
    coalesce(w.statuscode__label, w.statecode__label) as status,
    w._msdyn_cdsqueueid_value__formatted as queue_name,
    sa.agents,
    c.source_id as case_conversation,
    c.ord as case_ord,
    c.contact_source_id as case_contact,
    coalesce(aa.source_id, oa.source_id, c.admin_source_id) as admin_source_id,
    tm.source_id as team_source_id,
    case when w._msdyn_customer_value__lookuplogicalname = 'account' then co.company_id end as company_id,
    coalesce(cm.survivor_id, ac.primary_contact, ac.any_contact) as contact_source_id,
    fc.part_id as body_part_id,
    case
        when w._regardingobjectid_value__lookuplogicalname = 'incident' and c.source_id is not null then 'case'
        when w._regardingobjectid_value__lookuplogicalname = 'incident' and exists (
            select 1 from rejects.conversations r
            where r.source_table = 'incident' and r.source_id = w._regardingobjectid_value) then 'parent_rejected'
        when w._regardingobjectid_value__lookuplogicalname = 'incident' then 'parent_missing'
        when fc.part_id is null and exists (
            select 1 from msdyn_transcript_rows t
            where t._msdyn_liveworkitemidid_value = w.activityid
                and t.msdyn_transcriptid not in (select transcriptid from oc_transcript_docs where status = 'ok'))
            then 'no_content'
        when fc.part_id is null then 'no_messages'
        when coalesce(cm.survivor_id, ac.primary_contact, ac.any_contact) is null then 'no_contact'
        else 'own'
    end as fate
from msdyn_ocliveworkitem_rows w
left join stage.conversations c
    on c.source_table = 'incident' and c.source_id = w._regardingobjectid_value
    and w._regardingobjectid_value__lookuplogicalname = 'incident'
left join oc_session_agents sa on sa.item_id = w.activityid
left join stage.admins aa
    on aa.source_id = w._msdyn_activeagentid_value
left join stage.admins oa
    on oa.source_id = w._ownerid_value and w._ownerid_value__lookuplogicalname = 'systemuser'
left join stage.teams tm on tm.source_id = w._msdyn_cdsqueueid_value
left join stage.companies co on co.company_id = w._msdyn_customer_value
left join contact_map cm
    on cm.contactid = w._msdyn_customer_value and w._msdyn_customer_value__lookuplogicalname = 'contact'
left join account_contact ac
    on ac.accountid = w._msdyn_customer_value and w._msdyn_customer_value__lookuplogicalname = 'account'
left join oc_first_customer fc on fc.item_id = w.activityid;

-- A work item on no case: its own conversation, validated like a case's.
create or replace temp table oc_own as
select
    i.*,
    m.content_type as body_type,
    case when m.content_type like '%html%' then body_html(m.content) else text_to_html(m.content) end as body
from oc_item i
join oc_msg m on m.part_id = i.body_part_id
where i.fate = 'own';

insert into field_values
select 'conversation', activityid, field, value, null, field = 'body'
from (unpivot (select activityid, title, body from oc_own) on title, body into name field value value);

insert into field_values
select 'conversation', activityid, field, null, "at", false
from (unpivot (select activityid, opened_at as createdon, modifiedon from oc_own)
      on createdon, modifiedon into name field value "at");

insert into attr_values
select 'conversation', activityid, name, value
from (unpivot (
        select activityid, to_json(channels) as dynamics_channel,
            to_json(activityid) as dynamics_omnichannel_conversation_id
        from oc_own)
      on columns(* exclude (activityid)) into name name value value);

create or replace temp table oc_violation as
select * from violations('conversation') where source_id in (select activityid from oc_own);

insert into stage.conversations
with attrs as (
    select source_id, attrs_json(name, value) as custom_attributes
    from attr_values
    where model = 'conversation' and source_id in (select activityid from oc_own)
    group by source_id
),
base as (select coalesce(max(ord), 0) as n from stage.conversations)
select
    'msdyn_ocliveworkitem',
    o.activityid,
    o.contact_source_id,
    coalesce(o.company_id, sc.company_source_id),
    o.admin_source_id,
    o.team_source_id,
    o.title,
    o.body,
    unix_s(o.opened_at),
    unix_s(coalesce(o.modifiedon, o.msdyn_closedon, o.opened_at)),
    case when o.statecode = 0 then 'open' else 'closed' end,
    null,
    case when coalesce(o.statecode, 1) <> 0 then unix_s(coalesce(o.msdyn_closedon, o.modifiedon, o.opened_at)) end,
    a.custom_attributes,
    (select n from base) + row_number() over (order by o.opened_at nulls last, o.activityid)
from oc_own o
join stage.contacts sc on sc.source_id = o.contact_source_id
join attrs a on a.source_id = o.activityid
where o.activityid not in (select source_id from oc_violation)
order by o.opened_at nulls last, o.activityid;

insert into rejects.conversations
select 'msdyn_ocliveworkitem', activityid, 'no_contact',
    'Omnichannel conversation on no case: its customer is no migrated contact, and no account contact stands in',
    'msdyn_customer', 'msdyn_customer: none or not migrated'
from oc_item
where fate = 'no_contact'
union all
select 'msdyn_ocliveworkitem', activityid, 'no_transcript_content',
    'Omnichannel conversation on no case: its transcript could not be read (see msdyn_transcript), '
        || 'so there is no first message to open it with',
    'msdyn_transcript', 'transcript: not readable'
from oc_item
where fate = 'no_content'
union all
select 'msdyn_ocliveworkitem', source_id, rule, reason, field, context
from oc_violation
order by 2;

-- where each work item's parts go: its case's conversation or its own.
create or replace temp table oc_target as
select i.activityid as item_id, i.case_conversation as conversation_source_id, i.case_ord as conversation_ord,
    i.case_contact as contact_source_id, i.admin_source_id, null as body_part_id, true as on_case
from oc_item i
where i.fate = 'case'
union all
select i.activityid, c.source_id, c.ord, c.contact_source_id, i.admin_source_id, i.body_part_id, false
from oc_item i
join stage.conversations c on c.source_table = 'msdyn_ocliveworkitem' and c.source_id = i.activityid;

-- The summary note that opens a work item's messages on a case.
create or replace temp table oc_summary as
select
    i.activityid,
    t.conversation_source_id,
    t.conversation_ord,
    t.admin_source_id,
    i.opened_at,
    text_to_html(concat_ws(chr(10),
        'Omnichannel conversation: ' || i.title,
        'Channel: ' || coalesce(i.channels, 'not recorded'),
        'Queue: ' || coalesce(i.queue_name, 'none'),
        'Agents: ' || coalesce(i.agents, 'none (no agent took it)'),
        'Opened: ' || oc_time(i.opened_at) || '; closed: ' || oc_time(i.msdyn_closedon),
        'Status: ' || coalesce(i.status, 'unknown'))) as body
from oc_item i
join oc_target t on t.item_id = i.activityid and t.on_case;

insert into part_candidates
select 'msdyn_ocliveworkitem', activityid, conversation_source_id, conversation_ord, 'admin', null,
    admin_source_id, 'note', body, opened_at
from oc_summary
where admin_source_id is not null;

-- Each message of a migrated work item as a part.
create or replace temp table oc_part as
select
    m.part_id,
    m.transcriptid,
    m.item_id,
    t.conversation_source_id,
    t.conversation_ord,
    case when m.role = 'customer' then 'contact' else 'admin' end as author_type,
    case when m.role = 'customer' then coalesce(cm.survivor_id, t.contact_source_id) end as contact_source_id,
    case when m.role <> 'customer' then coalesce(a.source_id, t.admin_source_id) end as admin_source_id,
    case when m.role = 'customer' or (m.role = 'agent' and not m.private) then 'comment' else 'note' end
        as message_type,
    case when m.role = 'bot' then text_to_html('Bot ' || coalesce(m.sender_name, '') || ':') else '' end
        || coalesce(case when m.content_type like '%html%' then body_html(m.content)
            else text_to_html(m.content) end, '') as body,
    m.msg_at
from oc_msg m
join oc_target t on t.item_id = m.item_id
left join contact_map cm on cm.contactid = m.sender_id
left join stage.admins a on a.source_id = m.agent_user
where m.part_id is distinct from t.body_part_id;

insert into part_candidates
select 'msdyn_transcript_message', part_id, conversation_source_id, conversation_ord, author_type,
    contact_source_id, admin_source_id, message_type, body, msg_at
from oc_part
where body <> '' and (author_type = 'contact' or admin_source_id is not null);

-- Messages are not snapshot rows (their transcript is): those left out are
-- listed here, so the loss shows in rejects_by_reason.
insert into rejects.conversation_parts
select 'msdyn_transcript_message', part_id,
    case when body = '' then 'empty_body' else 'no_admin' end,
    case when body = '' then 'transcript message has no text'
        else 'agent, bot or system message: no migrated agent to write it (message sender, conversation agent, '
            || 'owner or case owner)' end,
    item_id
from oc_part
where body = '' or (author_type = 'admin' and admin_source_id is null)
order by part_id;

insert into reports.notes
select 'conversation_parts', 'msdyn_transcript_message', p.part_id,
    'agent of the message is not a migrated agent: written by the conversation''s agent'
from oc_part p
join oc_msg m on m.part_id = p.part_id
where m.role = 'agent' and p.admin_source_id is not null
    and m.agent_user not in (select source_id from stage.admins)
order by p.part_id;

-- What became of each work item.
insert into rejects.conversation_parts
select 'msdyn_ocliveworkitem', activityid, fate,
    case fate
        when 'parent_rejected' then 'the case this Omnichannel conversation is linked to was rejected'
        when 'parent_missing' then 'the case this Omnichannel conversation is linked to is not in the snapshot'
    end,
    incidentid
from oc_item
where fate in ('parent_rejected', 'parent_missing')
union all
select 'msdyn_ocliveworkitem', activityid, 'no_admin',
    'no migrated agent to write the conversation''s summary note (agent, owner or case owner)', conversation_source_id
from oc_summary
where admin_source_id is null
order by 2;

insert into reports.out_of_scope
select 'msdyn_ocliveworkitem', activityid,
    'Omnichannel conversation on no case without a customer message (abandoned, or no transcript): nothing to migrate'
from oc_item
where fate = 'no_messages'
order by activityid;

-- What became of each transcript: its messages are parts, or why not.
create or replace temp table oc_transcript_fate as
select
    t.msdyn_transcriptid,
    t._msdyn_liveworkitemidid_value as item_id,
    d.status,
    d.detail,
    case
        when i.activityid is null then 'parent_missing'
        when d.status is distinct from 'ok' then 'no_content'
        when i.fate = 'no_messages' then 'no_messages'
        when tg.item_id is null then 'parent_rejected'
    end as fate
from msdyn_transcript_rows t
left join oc_item i on i.activityid = t._msdyn_liveworkitemidid_value
left join oc_target tg on tg.item_id = i.activityid
left join (
    select transcriptid, min(status) filter (where status = 'ok') as ok,
        arg_min(status, annotationid) as first_status, arg_min(detail, annotationid) as first_detail
    from oc_transcript_docs group by transcriptid
) dd on dd.transcriptid = t.msdyn_transcriptid
cross join lateral (select coalesce(dd.ok, dd.first_status) as status,
    case when dd.ok is null then dd.first_detail end as detail) d;

insert into rejects.conversation_parts
select 'msdyn_transcript', msdyn_transcriptid, fate,
    case fate
        when 'parent_missing' then 'the Omnichannel conversation of this transcript is not in the snapshot'
        when 'parent_rejected' then 'the Omnichannel conversation of this transcript was not migrated '
            || '(see msdyn_ocliveworkitem)'
        when 'no_content' then case status
            when 'download_failed' then 'the snapshot could not download the transcript note: ' || detail
            when 'unparsable' then 'the transcript note is not a message list: ' || detail
            when 'unreadable' then 'the transcript note''s file is missing: ' || detail
            when 'no_file' then 'the transcript note holds no document'
            else 'no transcript note (annotation) for this transcript in the snapshot' end
    end,
    item_id
from oc_transcript_fate
where fate in ('parent_missing', 'parent_rejected', 'no_content')
order by msdyn_transcriptid;

insert into reports.out_of_scope
select 'msdyn_transcript', msdyn_transcriptid, case fate
        when 'no_messages' then 'transcript of an Omnichannel conversation with nothing to migrate'
        else 'consumed: its messages are conversation parts (source_table msdyn_transcript_message)'
    end
from oc_transcript_fate
where fate is null or fate = 'no_messages'
order by msdyn_transcriptid;

insert into reports.out_of_scope
select 'msdyn_ocsession', s.activityid,
    case when i.activityid is null then 'session of an Omnichannel conversation not in the snapshot'
        else 'consumed: its agent is named in its conversation''s summary' end
from msdyn_ocsession_rows s
left join oc_item i on i.activityid = s._msdyn_liveworkitemid_value
order by s.activityid;

insert into reports.out_of_scope
select 'msdyn_ocrecording', msdyn_ocrecordingid,
    'voice recording: listed in the channel-asset report (replay moves no recordings)'
from msdyn_ocrecording_rows
order by msdyn_ocrecordingid;

-- Files the transcripts say were shared, for the channel-asset report
-- (report/sql/inv_channel_assets.sql), which lists recordings itself.
create table reports.omnichannel_files as
select
    f.transcriptid,
    m.part_id as message_id,
    m.item_id,
    f.file_id,
    f.file_name,
    f.file_type,
    f.annotationid
from oc_message_files f
join oc_msg m on m.transcriptid = f.transcriptid and m.seq = f.seq
order by f.transcriptid, m.part_id, f.file_id;
