-- Builds stage.data_attributes (the custom attributes replay creates before
-- any object) from the attributes stage.contacts and stage.conversations use.
-- source_table/source_id name the Dataverse table and column each comes from.
create table stage.data_attributes as
with used (model, name, data_type, description, source_table, source_id, used_by) as (
    values
        ('contact', 'dynamics_contact_id', 'string', 'Dynamics 365 contact id (contactid)',
            'contact', 'contactid', 'contacts'),
        ('conversation', 'dynamics_case_id', 'string', 'Dynamics 365 case id (incidentid)',
            'incident', 'incidentid', 'conversations'),
        ('conversation', 'dynamics_case_number', 'string', 'Dynamics 365 case number (ticketnumber)',
            'incident', 'ticketnumber', 'conversations'),
        ('conversation', 'dynamics_priority', 'string', 'Dynamics 365 case priority (prioritycode label)',
            'incident', 'prioritycode', 'conversations'),
        ('conversation', 'dynamics_status', 'string', 'Dynamics 365 case status reason (statuscode label)',
            'incident', 'statuscode', 'conversations'),
        ('conversation', 'dynamics_state', 'string',
            'Dynamics 365 case state (statecode label: Active, Resolved, Cancelled)',
            'incident', 'statecode', 'conversations')
)
select
    model, name, data_type, description, source_table, source_id,
    row_number() over (order by model, name) as ord
from used
where (used_by = 'contacts' and exists (select 1 from stage.contacts))
    or (used_by = 'conversations' and exists (select 1 from stage.conversations))
order by ord;
