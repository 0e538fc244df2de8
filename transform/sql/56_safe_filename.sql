-- Temp macro safe_filename(name, fallback): a file name every receiver can
-- store. Path separators, characters Windows refuses, control characters and
-- bidi overrides (which disguise "exe" as "pdf") become "_"; leading and
-- trailing dots and spaces go (no hidden files, no "..");
-- reserved device names (CON, NUL, COM1 ...) get a "_" prefix; long names
-- are cut keeping the extension, so that no name passes 255 bytes; an empty
-- result is fallback. Reads nothing.
create or replace temp macro fname_chars(n) as
    regexp_replace(
        regexp_replace(coalesce(n, ''),
            '[\x00-\x1f\x7f/\\:*?"<>|\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}]', '_', 'g'),
        '^[\s.]+|[\s.]+$', '', 'g');
create or replace temp macro fname_reserved(n) as
    case when regexp_matches(n, '^(?i)(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)') then '_' || n else n end;
-- at most 4 bytes a character: 60 characters fit in 255 bytes whatever the script.
create or replace temp macro fname_max(n) as case when strlen(n) = length(n) then 200 else 60 end;
create or replace temp macro fname_ext(n) as regexp_extract(n, '\.[^.\s]{1,16}$');
create or replace temp macro fname_cut(n) as
    case when length(n) <= fname_max(n) then n
        else rtrim(left(n, fname_max(n) - length(fname_ext(n))), ' .') || fname_ext(n) end;
create or replace temp macro safe_filename(n, fallback) as
    coalesce(nullif(fname_cut(fname_reserved(fname_chars(n))), ''), fallback);
