-- Grain: one row per welfare fund, fiscal year joined, gender, status and member list file
-- (fund_code, joined_fiscal_year, gender, status, _source_file). Aggregated: the member rows
-- (six million nationally) are not copied, and no pseudonym leaves staging; the source rows
-- behind a figure are first_source_row..last_source_row of the file (not every row between).
select * from {{ ref('int_welfare_members_aggregated') }}
