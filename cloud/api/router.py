"""Every /api/v1 router, in one place."""

from fastapi import APIRouter

from cloud.api.routes import (
    api_keys,
    audit,
    credentials,
    doors,
    events,
    groups,
    imports,
    mobile_keys,
    rules,
    sites,
    users,
    zones,
)

api_router = APIRouter()
for module in (
    sites,
    doors,
    zones,
    users,
    mobile_keys,
    groups,
    credentials,
    rules,
    events,
    audit,
    imports,
    api_keys,
):
    api_router.include_router(module.router)
