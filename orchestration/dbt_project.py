"""The dbt project, on its own so that `dagster-dbt project prepare-and-package --file
orchestration/dbt_project.py` (run by the Makefile) can build the manifest before any asset
definition needs it."""

from dagster_dbt import DbtProject

from orchestration import settings

dbt_project = DbtProject(project_dir=settings.DBT_PROJECT_DIR)
# In `dagster dev` the manifest is rebuilt on load; elsewhere the Makefile prepares it once,
# so importing the code location never parses dbt.
dbt_project.prepare_if_dev()
