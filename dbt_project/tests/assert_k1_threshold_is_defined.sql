-- K1 reads its threshold (the minimum number of issues with activity in a year) from the seed
-- kpi_parameters; without exactly one usable value K1 would silently count nothing.
select count(*) as k1_min_issues_rows
from {{ ref('kpi_parameters') }}
where kpi_id = 'K1' and parameter = 'min_issues' and value >= 1
having count(*) != 1
