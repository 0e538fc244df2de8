-- Builds stage.attachments from attachment_batched (57_attachments.sql) once
-- stage.conversation_parts is ordered: one row per file sent, on the part
-- (part_source_table, part_source_id) it rides on, at position 1..10. A file
-- split over the cap is chunk_count rows, bytes blob_offset..+size_bytes of
-- the blob at reports.attachment_rule.snapshot_dir/blob_path.
create table stage.attachments as
select
    b.source_table,
    b.source_id,
    b.part_source_table,
    b.part_source_id,
    p.conversation_source_id,
    b.position,
    b.file_name,
    b.original_file_name,
    b.content_type,
    b.original_content_type,
    b.size_bytes,
    b.file_size_bytes,
    b.sha256,
    b.blob_path,
    b.blob_offset,
    cast(b.chunk_no as integer) as chunk_no,
    b.chunk_count,
    row_number() over (order by p.ord, b.position) as ord
from attachment_batched b
join stage.conversation_parts p on p.source_table = b.part_source_table and p.source_id = b.part_source_id
order by ord;
