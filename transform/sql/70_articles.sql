-- Builds stage.collections and rejects.collections from category_rows, and
-- stage.articles and rejects.articles from knowledgearticle_rows, using
-- languagelocale_rows for locales, knowledgearticlescategories_rows for the
-- collection of each article and stage.admins for authors. Every
-- languagelocale and knowledgearticlescategories row is consumed (out of
-- scope with its reason). Rules (docs/contracts.md §2):
--   - Collections nest at most collection_max_depth() levels (the mapping's
--     taxonomy.max_depth default; Intercom documents no limit). A deeper
--     category is flattened: it hangs under its ancestor one level above the
--     limit, named by the path from the ancestor at the limit down to itself
--     ("Invoices / How-to / Advanced"), so no level's name is lost.
--   - One Intercom article per Dataverse root article; each latest language
--     version is one staged row, the article itself (role 'article') or a
--     translation (role 'translation') under its Intercom locale.
--   - States: Published -> published; Draft, Approved, Scheduled, Expired and
--     Archived -> draft (Intercom has no other state; notes say why);
--     internal-only articles -> draft, so nothing internal goes public.

create or replace temp macro collection_max_depth() as 3;

-- ---- collections ----

-- the tree walked from its roots: a root has no parent or a parent missing
-- from the snapshot. A category never reached sits on a parent cycle.
create or replace temp table category_tree as
with recursive walk (categoryid, depth, ids, titles, bad_ancestor) as (
    select c.categoryid, 1, [c.categoryid], [trim(c.title)], blank(c.title)
    from category_rows c
    where c._parentcategoryid_value is null
        or c._parentcategoryid_value not in (select categoryid from category_rows)
    union all
    select c.categoryid, w.depth + 1, list_append(w.ids, c.categoryid), list_append(w.titles, trim(c.title)),
        w.bad_ancestor or blank(c.title)
    from category_rows c
    join walk w on c._parentcategoryid_value = w.categoryid
    where not list_contains(w.ids, c.categoryid)
)
select * from walk;

create or replace temp table category_fate as
select
    c.*,
    t.depth, t.ids, t.titles,
    case
        when t.categoryid is null then 'category_cycle'
        when blank(c.title) then 'missing_name'
        when t.bad_ancestor then 'parent_rejected'
    end as fate,
    c._parentcategoryid_value is not null and t.depth = 1 as orphan
from category_rows c
left join category_tree t on t.categoryid = c.categoryid;

create or replace temp table collection_shape as
select
    f.*,
    least(f.depth, collection_max_depth()) as collection_depth,
    case
        when f.depth = 1 then null
        when f.depth <= collection_max_depth() then f._parentcategoryid_value
        when collection_max_depth() = 1 then null
        else f.ids[collection_max_depth() - 1]
    end as parent_source_id,
    case
        when f.depth <= collection_max_depth() then trim(f.title)
        else array_to_string(f.titles[collection_max_depth():f.depth], ' / ')
    end as base_name
from category_fate f
where f.fate is null;

create table stage.collections as
select
    'category' as source_table,
    categoryid as source_id,
    -- siblings with one name would make the lookup by name and parent
    -- ambiguous on resume: the later ones get their number.
    base_name || case when row_number() over sib > 1
        then ' (' || coalesce(nullif(trim(categorynumber), ''), categoryid) || ')' else '' end as name,
    nullif(trim(description), '') as description,
    parent_source_id,
    collection_depth as depth,
    row_number() over (order by collection_depth, parent_source_id nulls first, sequencenumber nulls last,
        base_name, categoryid) as ord
from collection_shape
window sib as (partition by parent_source_id, base_name order by sequencenumber nulls last, categoryid)
order by ord;

create table rejects.collections as
select
    'category' as source_table,
    categoryid as source_id,
    fate as rule,
    case fate
        when 'category_cycle' then 'category is its own ancestor (parentcategoryid cycle)'
        when 'missing_name' then 'category has no title; Intercom requires a collection name'
        else 'an ancestor category was rejected'
    end as reason,
    coalesce(title, _parentcategoryid_value) as context
from category_fate
where fate is not null
order by categoryid;

insert into reports.notes
select 'collections', 'category', categoryid,
    'category nested ' || depth || ' levels deep: flattened into collection "' || base_name || '" at level ' ||
    collection_max_depth()
from collection_shape
where depth > collection_max_depth()
order by categoryid;

insert into reports.notes
select 'collections', 'category', categoryid, 'parent category not in the snapshot: a top-level collection'
from category_fate
where orphan and fate is null
order by categoryid;

-- ---- locales ----

create or replace temp table intercom_locales as
select unnest(['ar', 'bg', 'bs', 'ca', 'cs', 'da', 'de', 'el', 'en', 'es', 'et', 'fi', 'fr', 'he', 'hr', 'hu',
    'id', 'it', 'ja', 'ko', 'lt', 'lv', 'mn', 'nb', 'nl', 'pl', 'pt', 'pt-BR', 'ro', 'ru', 'sl', 'sr', 'sv',
    'tr', 'vi', 'zh-CN', 'zh-TW']) as locale;

-- a Dataverse code (en-US) maps to Intercom's full code when it has one
-- (pt-BR), else to its language (en); Norwegian (no, nb-NO) is nb.
create or replace temp table locale_map as
select
    l.languagelocaleid,
    l.code,
    coalesce(whole.locale, lang.locale) as locale
from languagelocale_rows l
left join intercom_locales whole on lower(whole.locale) = lower(trim(l.code))
left join intercom_locales lang on lang.locale =
    case lower(split_part(trim(l.code), '-', 1)) when 'no' then 'nb' else lower(split_part(trim(l.code), '-', 1)) end;

insert into reports.out_of_scope
select 'languagelocale', languagelocaleid, 'language list: consumed as the locale of articles'
from languagelocale_rows
order by languagelocaleid;

-- ---- articles ----

create or replace temp table article_fate as
with rows as (
    select
        k.*,
        coalesce(k._rootarticleid_value, k.knowledgearticleid) as group_id,
        lm.locale,
        case
            when k.isrootarticle then 'root'
            when k.islatestversion is distinct from true then 'superseded'
            when k.statecode = 6 then 'discarded'
            when blank(k.title) then 'missing_title'
            when k._languagelocaleid_value is null then 'no_locale'
            when lm.locale is null then 'unsupported_locale'
        end as fate
    from knowledgearticle_rows k
    left join locale_map lm on lm.languagelocaleid = k._languagelocaleid_value
)
select
    r.* replace (
        case when r.fate is null and row_number() over (partition by r.group_id, r.locale, r.fate is null
            order by r.majorversionnumber desc nulls last, r.minorversionnumber desc nulls last,
                r.modifiedon desc nulls last, r.knowledgearticleid) > 1
            then 'same_language' else r.fate end as fate)
from rows r;

insert into reports.out_of_scope
select 'knowledgearticle', knowledgearticleid,
    case fate
        when 'root' then 'root article: groups the versions and translations, holds no content of its own'
        when 'superseded' then 'superseded version'
        when 'discarded' then 'discarded article'
        else 'another latest version in the same language: the newest is kept'
    end
from article_fate
where fate in ('root', 'superseded', 'discarded', 'same_language')
order by knowledgearticleid;

create table rejects.articles as
select
    'knowledgearticle' as source_table,
    knowledgearticleid as source_id,
    fate as rule,
    case fate
        when 'missing_title' then 'article has no title; Intercom requires one'
        when 'no_locale' then 'article has no language (languagelocaleid)'
        else 'language ' || coalesce(_languagelocaleid_value__formatted, _languagelocaleid_value) ||
            ' is not a locale Intercom articles take'
    end as reason,
    coalesce(title, articlepublicnumber) as context
from article_fate
where fate in ('missing_title', 'no_locale', 'unsupported_locale')
order by knowledgearticleid;

create or replace temp table article_kept as
select * from article_fate where fate is null;

-- the help center's language is taken to be the one most articles are
-- written in; the version in that language is the article's own content.
create or replace temp table help_center_locale as
select locale from article_kept group by locale order by count(*) desc, locale limit 1;

-- the row that creates the Intercom article: the version in the help
-- center's language, else the primary version, else the oldest.
create or replace temp table article_lead as
select group_id,
    arg_min(knowledgearticleid, (locale <> (select locale from help_center_locale), isprimary is not true,
        createdon, knowledgearticleid)) as lead_id
from article_kept
group by group_id;

-- the collection of an article: among the staged categories linked to any
-- of its records, the deepest in the source tree, then the first by number.
create or replace temp table article_collection as
select g.group_id,
    arg_min(l.categoryid, (-cf.depth, coalesce(cf.sequencenumber, 2147483647), l.categoryid)) as categoryid
from knowledgearticlescategories_rows l
join knowledgearticle_rows k on k.knowledgearticleid = l.knowledgearticleid
join article_lead g on g.group_id = coalesce(k._rootarticleid_value, k.knowledgearticleid)
join stage.collections sc on sc.source_id = l.categoryid
join category_fate cf on cf.categoryid = l.categoryid
group by g.group_id;

create table stage.articles as
select
    'knowledgearticle' as source_table,
    k.knowledgearticleid as source_id,
    g.lead_id as article_source_id,
    case when k.knowledgearticleid = g.lead_id then 'article' else 'translation' end as role,
    k.locale,
    (select locale from help_center_locale) as help_center_locale,
    trim(k.title) as title,
    nullif(trim(k.description), '') as description,
    coalesce(article_html(k.content), '') as body,
    case when k.statecode = 3 and k.isinternal is not true then 'published' else 'draft' end as state,
    coalesce(pa.source_id, oa.source_id, ca.source_id) as author_source_id,
    ac.categoryid as collection_source_id,
    unix_s(k.createdon) as created_at,
    unix_s(k.modifiedon) as updated_at,
    row_number() over (order by lead.createdon, g.lead_id, k.knowledgearticleid <> g.lead_id, k.locale,
        k.knowledgearticleid) as ord
from article_kept k
join article_lead g on g.group_id = k.group_id
join knowledgearticle_rows lead on lead.knowledgearticleid = g.lead_id
left join article_collection ac on ac.group_id = k.group_id
left join stage.admins pa on pa.source_id = k._primaryauthorid_value
left join stage.admins oa on oa.source_id = k._ownerid_value
    and k._ownerid_value__lookuplogicalname is distinct from 'team'
left join stage.admins ca on ca.source_id = k._createdby_value
order by ord;

insert into reports.notes
select 'articles', 'knowledgearticle', knowledgearticleid,
    case
        when isinternal and statecode = 3 then 'internal-only article: kept as a draft so that it is not public'
        when statecode = 5 then 'archived in Dynamics: a draft in Intercom (no archived state)'
        when statecode = 4 then 'expired in Dynamics: a draft in Intercom (no expired state)'
        when statecode = 2 then 'scheduled in Dynamics: a draft in Intercom (no scheduled publishing)'
        when statecode = 1 then 'approved but not published in Dynamics: a draft in Intercom'
    end
from article_kept
where (isinternal and statecode = 3) or statecode in (1, 2, 4, 5)
order by knowledgearticleid;

-- ---- article-category links ----

insert into reports.out_of_scope
select 'knowledgearticlescategories', l.knowledgearticlescategoryid,
    case
        when g.group_id is null then 'link of an article not migrated'
        when sc.source_id is null then 'link to a category not migrated'
        when ac.categoryid = l.categoryid then 'consumed: places the article in its collection'
        else 'article already placed in another collection (an Intercom article has one)'
    end
from knowledgearticlescategories_rows l
left join knowledgearticle_rows k on k.knowledgearticleid = l.knowledgearticleid
left join article_lead g on g.group_id = coalesce(k._rootarticleid_value, k.knowledgearticleid)
left join stage.collections sc on sc.source_id = l.categoryid
left join article_collection ac on ac.group_id = g.group_id
order by l.knowledgearticlescategoryid;
