"""Request dependencies as Annotated aliases: the session, the authenticated operator, paging, instants."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from sqlmodel import Session

from cloud.auth.keys import find_api_key
from cloud.auth.limiter import AuthFailureLimiter
from cloud.auth.operator import ROLE_INTEGRATION, Operator
from cloud.db import session_scope
from cloud.errors import Invalid
from cloud.models.api_key import ApiKey
from shared_schema.messages import MAX_COUNTER


def get_session(request: Request) -> Iterator[Session]:
    yield from session_scope(request.app.state.engine)


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer oak_...`")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _authenticate(
    request: Request, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> ApiKey:
    """The valid, unrevoked key of the request (401 without one; 429 after too many invalid ones)."""
    limiter: AuthFailureLimiter = request.app.state.limiter
    client = _client(request)
    retry_after = limiter.retry_after(client)
    if retry_after:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many invalid API keys from this address: retry later",
            headers={"Retry-After": str(retry_after)},
        )
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key: send `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    record = find_api_key(session=session, key=credentials.credentials)
    if record is None:
        limiter.record_failure(client)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return record


def _operator(record: ApiKey) -> Operator:
    assert record.id is not None
    return Operator(
        key_id=record.id,
        name=record.name,
        role=record.role,
        site_id=record.site_id,
        scopes=tuple(record.scopes),
    )


def get_operator(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Operator:
    record = _authenticate(request, session, credentials)
    if record.role == ROLE_INTEGRATION:
        message = "an integration key may call only the /integrations endpoints of its scopes"
        raise HTTPException(status.HTTP_403_FORBIDDEN, message)
    return _operator(record)


CurrentOperator = Annotated[Operator, Depends(get_operator)]


def integration_caller(scope: str) -> Callable[..., Operator]:
    """A dependency admitting only integration keys with `scope`, within their rate limit (429 beyond it)."""

    def dependency(
        request: Request,
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Operator:
        record = _authenticate(request, session, credentials)
        if record.role != ROLE_INTEGRATION or scope not in record.scopes:
            message = f"this needs an integration key with the scope {scope!r}"
            raise HTTPException(status.HTTP_403_FORBIDDEN, message)
        assert record.id is not None
        limit = record.rate_limit_per_min or request.app.state.settings.integration_rate_limit_per_min
        retry_after = request.app.state.key_limiter.take(record.id, limit)
        if retry_after:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"this key's rate limit ({limit} requests per minute) is reached: retry later",
                headers={"Retry-After": str(retry_after)},
            )
        return _operator(record)

    return dependency


# An integration key with the "members" scope (a membership or payment system).
MembersCaller = Annotated[Operator, Depends(integration_caller("members"))]
# An integration key with the "verifications" scope (a face-recognition terminal).
VerifierCaller = Annotated[Operator, Depends(integration_caller("verifications"))]


def get_writer(operator: CurrentOperator) -> Operator:
    if not operator.can_write:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this API key is read-only (viewer)")
    return operator


# An operator allowed to change things (admin or operator role).
WriterOperator = Annotated[Operator, Depends(get_writer)]


def get_admin(operator: CurrentOperator) -> Operator:
    if not operator.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs an admin API key")
    return operator


AdminOperator = Annotated[Operator, Depends(get_admin)]


class Pagination:
    """?offset=&limit= for every list; the order is always by id unless the endpoint says otherwise."""

    def __init__(
        self,
        request: Request,
        offset: Annotated[int, Query(ge=0, le=MAX_COUNTER)] = 0,
        limit: Annotated[int | None, Query(ge=1, le=MAX_COUNTER)] = None,
    ) -> None:
        settings = request.app.state.settings
        self.offset = offset
        self.limit = min(limit or settings.default_page_size, settings.max_page_size)


PageDep = Annotated[Pagination, Depends()]

# ?site_id= narrows a global key's lists to one site (a site-bound key always sees only its own).
SiteFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
# Path ids are database integers (32-bit).
ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# An instant: Unix seconds or an ISO 8601 date-time (UTC if no offset is given).
Instant = Annotated[int, Field(ge=0, le=MAX_COUNTER)] | datetime


def to_unix(value: int | datetime | None, field: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        ts = int(value.timestamp())
    except (OverflowError, OSError, ValueError):
        ts = -1
    if not 0 <= ts <= MAX_COUNTER:
        raise Invalid(field, "instant out of range (1970 onwards)", location="query")
    return ts
