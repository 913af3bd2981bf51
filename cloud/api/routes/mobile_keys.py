"""/users/{user_id}/mobile-keys: issue a phone's key (its secret shown once), list, read, revoke."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from cloud.api.deps import CurrentOperator, ObjectId, PageDep, SessionDep, WriterOperator
from cloud.crud.scope import get_visible
from cloud.mobilekeys import service
from cloud.mobilekeys.delivery import key_file_bytes, key_file_qr_png
from cloud.mobilekeys.models import MobileKeyCreate, MobileKeyIssued, MobileKeyPublic, MobileKeysPublic
from cloud.models.user import User

router = APIRouter(prefix="/users/{user_id}/mobile-keys", tags=["mobile keys"])
# json: the key and its key file; file: the key file as a download; qr: the key file in a QR code (PNG).
DeliveryFormat = Literal["json", "file", "qr"]
_NO_STORE = {"Cache-Control": "no-store"}  # the answer carries the key's secret


def _user(session: SessionDep, operator: CurrentOperator, user_id: int) -> User:
    return get_visible(session=session, model=User, obj_id=user_id, operator=operator, entity="user")


@router.post(
    "",
    response_model=MobileKeyIssued,
    status_code=status.HTTP_201_CREATED,
    responses={201: {"content": {"image/png": {}, "application/json": {}}}},
)
def issue_mobile_key(
    request: Request,
    session: SessionDep,
    operator: WriterOperator,
    user_id: ObjectId,
    key_in: MobileKeyCreate,
    delivery: Annotated[DeliveryFormat, Query(alias="format")] = "json",
) -> Response | MobileKeyIssued:
    """Issues a mobile key for a door or a zone; its key file (with the secret) is in this answer only.

    The validity is cut to what the user's rules grant, and the key carries their weekday windows.
    `?format=qr` answers the key file as a QR code (PNG), `?format=file` as a JSON download.
    """
    user = _user(session, operator, user_id)
    mobile, keyfile = service.issue_mobile_key(
        session=session, operator=operator, settings=request.app.state.settings, user=user, key_in=key_in
    )
    if delivery == "qr":
        png = key_file_qr_png(keyfile)  # before the commit: a key too large for a QR code is not issued
        session.commit()
        return Response(png, status.HTTP_201_CREATED, _NO_STORE, media_type="image/png")
    session.commit()
    if delivery == "file":
        headers = {**_NO_STORE, "Content-Disposition": f'attachment; filename="mobile-key-{mobile.id}.json"'}
        return Response(
            key_file_bytes(keyfile), status.HTTP_201_CREATED, headers, media_type="application/json"
        )
    public = service.mobile_key_public(session=session, mobile=mobile)
    issued = MobileKeyIssued.model_validate(public.model_dump(), update={"key_file": keyfile})
    return Response(
        issued.model_dump_json(), status.HTTP_201_CREATED, _NO_STORE, media_type="application/json"
    )


@router.get("", response_model=MobileKeysPublic)
def list_mobile_keys(
    session: SessionDep, operator: CurrentOperator, user_id: ObjectId, paging: PageDep
) -> MobileKeysPublic:
    user = _user(session, operator, user_id)
    rows, count = service.list_mobile_keys(
        session=session, user=user, offset=paging.offset, limit=paging.limit
    )
    return MobileKeysPublic(data=service.mobile_keys_public(session=session, keys=rows), count=count)


@router.get("/{mobile_key_id}", response_model=MobileKeyPublic)
def read_mobile_key(
    session: SessionDep, operator: CurrentOperator, user_id: ObjectId, mobile_key_id: ObjectId
) -> MobileKeyPublic:
    user = _user(session, operator, user_id)
    mobile = service.get_mobile_key(session=session, user=user, key_id=mobile_key_id)
    return service.mobile_key_public(session=session, mobile=mobile)


@router.delete("/{mobile_key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_mobile_key(
    session: SessionDep, operator: WriterOperator, user_id: ObjectId, mobile_key_id: ObjectId
) -> None:
    """Revokes the key: its credential is deleted, so the doors' tables lose it at the next sync."""
    user = _user(session, operator, user_id)
    mobile = service.get_mobile_key(session=session, user=user, key_id=mobile_key_id)
    service.revoke_mobile_key(session=session, operator=operator, mobile=mobile)
    session.commit()
