"""The cloud service: canonical permission tables and the operators' REST API (FastAPI + SQLModel).

Layout: main.py wires the app; settings.py holds the one Settings class; db.py and migrate.py own the
engine and the Alembic schema; models/ and crud/ hold the directory (sites, doors, zones, users, groups,
credentials, access rules, API keys); permissions/, events/, audit/, commands/ and importer/ are domains
with their own models, service and routes; api/ holds the HTTP layer; cli.py is `python -m cloud`.
"""

# Every table, first: each domain's models import cloud.models.common, whose package imports every domain's
# models. Loading the package here lets any module be the first one imported (a worker that starts from
# cloud.lockkeys.service or cloud.permissions.models) without a circular-import error.
import cloud.models  # noqa: E402, F401
