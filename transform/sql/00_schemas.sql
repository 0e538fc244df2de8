-- Builds empty schemas stage, rejects and reports (dropped first, so every run
-- starts from scratch), the shared reports.out_of_scope and reports.notes
-- tables, and the helper macros the later steps use. Reads nothing.
drop schema if exists stage cascade;
drop schema if exists rejects cascade;
drop schema if exists reports cascade;
create schema stage;
create schema rejects;
create schema reports;

-- unix seconds for Intercom; null stays null.
create or replace temp macro unix_s(t) as cast(epoch_ms(t) // 1000 as bigint);
-- a usable address: one @, no whitespace, a dot in the domain.
create or replace temp macro is_email(s) as
    coalesce(regexp_full_match(trim(s), '[^@\s]+@[^@\s]+\.[^@\s]+'), false);
create or replace temp macro blank(s) as coalesce(trim(s), '') = '';

-- every source row deliberately not migrated, with the reason.
create table reports.out_of_scope (
    source_table varchar, source_id varchar, reason varchar);
-- decisions taken on rows that were migrated (ignored addresses, fallbacks).
create table reports.notes (
    object varchar, source_table varchar, source_id varchar, note varchar);
