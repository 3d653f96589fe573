"""API for the current user and their personal tokens."""

from datetime import datetime

from ninja import Router, Schema, Status

from shegong.accounts.models import ApiToken
from shegong.accounts.services import api_token_create, api_token_revoke
from shegong.core.api import InputSchema
from shegong.core.inputs import Id, Moment, Text
from shegong.core.roles import ROLE_PERMISSIONS, Role
from shegong.core.scoping import CHANGE, get_scoped_or_404

router = Router(tags=["accounts"])


class DivisionRef(Schema):
    code: str
    name: str
    level: str


class MeOut(Schema):
    """The signed-in user: role, division and what the role allows."""

    username: str
    full_name: str
    role: str
    role_label: str
    division: DivisionRef
    permissions: list[str]
    sees_personal_data: bool


class TokenIn(InputSchema):
    name: Text
    expires_at: Moment | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


@router.get("/me", response=MeOut, summary="The current user")
def me(request):
    user = request.auth
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "role_label": str(Role(user.role).label),
        "division": user.division,
        "permissions": sorted(ROLE_PERMISSIONS.get(user.role, ())),
        "sees_personal_data": user.sees_personal_data,
    }


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def list_tokens(request):
    return ApiToken.objects.restrict(request.auth, "view")


@router.post("/tokens", response={201: TokenCreatedOut}, summary="Create an API token")
def create_token(request, payload: TokenIn):
    token, raw = api_token_create(
        user=request.auth, name=payload.name, expires_at=payload.expires_at
    )
    token.token = raw
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request, token_id: Id):
    token = get_scoped_or_404(ApiToken, request.auth, CHANGE, pk=token_id)
    api_token_revoke(user=request.auth, token=token)
    return Status(204, None)
