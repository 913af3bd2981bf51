"""Every /api/v1 router, in one place."""

from fastapi import APIRouter

from cloud.api.routes import (
    api_keys,
    attendance,
    audit,
    credentials,
    doors,
    events,
    groups,
    imports,
    integrations,
    mobile_keys,
    rules,
    sites,
    users,
    webhooks,
    zones,
)

api_router = APIRouter()
ROUTERS = (
    sites,
    doors,
    zones,
    users,
    mobile_keys,
    groups,
    credentials,
    rules,
    events,
    attendance,
    audit,
    imports,
    api_keys,
    webhooks,
    integrations,
)
for module in ROUTERS:
    api_router.include_router(module.router)
