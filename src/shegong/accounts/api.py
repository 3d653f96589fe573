"""API for the current user and their personal tokens, and user administration for
security administrators (the same services as the pages)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from shegong.accounts.models import ApiToken, TwoFactorDevice, User
from shegong.accounts.services import (
    api_token_create,
    api_token_revoke,
    password_link_create,
    password_link_hours,
    user_create,
    user_set_active,
    user_update,
)
from shegong.accounts.two_factor import passed_two_factors, two_factor_reset
from shegong.core.api import InputSchema, Pagination, require
from shegong.core.inputs import Code, Id, Moment, Search, Text, Word
from shegong.core.roles import ROLE_PERMISSIONS, Role
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404
from shegong.core.validators import mask_phone
from shegong.geo.selectors import division_in_scope_or_404

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
        user=request.auth,
        two_factor=passed_two_factors(request),
        name=payload.name,
        expires_at=payload.expires_at,
    )
    token.token = raw
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request, token_id: Id):
    token = get_scoped_or_404(ApiToken, request.auth, CHANGE, pk=token_id)
    api_token_revoke(user=request.auth, token=token)
    return Status(204, None)


# --- User administration (security administrators) ----------------------------------------


class UserOut(Schema):
    """A user as the security administrator sees them (the phone masked)."""

    id: int
    username: str
    full_name: str
    role: Role
    division: DivisionRef
    organisation_id: int | None
    phone: str
    is_active: bool
    last_login: datetime | None
    has_two_factor: bool

    @staticmethod
    def resolve_phone(obj: User) -> str:
        return mask_phone(obj.phone) if obj.phone else ""

    @staticmethod
    def resolve_has_two_factor(obj: User) -> bool:
        value = getattr(obj, "has_two_factor", None)
        if value is None:
            return TwoFactorDevice.objects.filter(user=obj).exists()
        return bool(value)


class PasswordLinkOut(Schema):
    """A one-time set-password link, given once: hand it to the user."""

    link: str
    expires_at: datetime


class UserCreatedOut(UserOut):
    password_link: PasswordLinkOut


class UserIn(InputSchema):
    username: Text
    full_name: Text
    role: Role
    division_code: Code
    organisation_id: Id | None = None
    phone: Text = ""


class UserChangeIn(InputSchema):
    full_name: Text
    role: Role
    division_code: Code
    organisation_id: Id | None = None
    phone: Text = ""


class UserFilter(InputSchema):
    q: Search = ""
    role: Word = ""
    active: bool | None = None


def _users(request):
    return (
        User.objects.restrict(request.auth, VIEW)
        .select_related("division")
        .annotate(has_two_factor=Exists(TwoFactorDevice.objects.filter(user=OuterRef("pk"))))
    )


def _agency(request, organisation_id: int | None):
    if organisation_id is None:
        return None
    from shegong.network.models import SocialOrganisation

    return get_scoped_or_404(SocialOrganisation, request.auth, VIEW, pk=organisation_id)


def _link(request, user: User) -> dict:
    raw = password_link_create(actor=request.auth, user=user)
    return {
        "link": request.build_absolute_uri(
            reverse("accounts:set_password_link", kwargs={"key": raw})
        ),
        "expires_at": timezone.now() + timedelta(hours=password_link_hours()),
    }


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


@router.get("/users", response=list[UserOut], summary="Users in my area (security admins)")
@paginate(Pagination)
def list_users(request, filters: Query[UserFilter], response: HttpResponse):
    require(request.auth, "accounts.view_user")
    _no_store(response)
    users = _users(request)
    if filters.q:
        users = users.filter(Q(username__icontains=filters.q) | Q(full_name__icontains=filters.q))
    if filters.role:
        users = users.filter(role=filters.role)
    if filters.active is not None:
        users = users.filter(is_active=filters.active)
    return users.order_by("username")


@router.post(
    "/users",
    response={201: UserCreatedOut},
    summary="Create a user; the answer holds their one-time set-password link",
)
def create_user(request, payload: UserIn, response: HttpResponse):
    require(request.auth, "accounts.add_user")
    _no_store(response)
    division = division_in_scope_or_404(user=request.auth, code=payload.division_code)
    with transaction.atomic():
        user = user_create(
            actor=request.auth,
            username=payload.username,
            full_name=payload.full_name,
            role=payload.role,
            division=division,
            organisation=_agency(request, payload.organisation_id),
            phone=payload.phone,
        )
        link = _link(request, user)
    user.has_two_factor = False
    user.password_link = link
    return Status(201, user)


@router.get("/users/{user_id}", response=UserOut, summary="A user")
def get_user(request, user_id: Id, response: HttpResponse):
    require(request.auth, "accounts.view_user")
    _no_store(response)
    return get_scoped_or_404(_users(request), request.auth, VIEW, pk=user_id)


@router.patch("/users/{user_id}", response=UserOut, summary="Change a user's details")
def change_user(request, user_id: Id, payload: UserChangeIn, response: HttpResponse):
    require(request.auth, "accounts.change_user")
    _no_store(response)
    user = get_scoped_or_404(User, request.auth, CHANGE, pk=user_id)
    user_update(
        actor=request.auth,
        user=user,
        full_name=payload.full_name,
        role=payload.role,
        division=division_in_scope_or_404(user=request.auth, code=payload.division_code),
        organisation=_agency(request, payload.organisation_id),
        phone=payload.phone,
    )
    return get_scoped_or_404(_users(request), request.auth, VIEW, pk=user_id)


def _set_active(request, user_id: int, active: bool):
    require(request.auth, "accounts.change_user")
    user = get_scoped_or_404(User, request.auth, CHANGE, pk=user_id)
    user_set_active(actor=request.auth, user=user, active=active)
    return get_scoped_or_404(_users(request), request.auth, VIEW, pk=user_id)


@router.post(
    "/users/{user_id}/disable",
    response=UserOut,
    summary="Disable a user: their sessions, tokens and links stop at once",
)
def disable_user(request, user_id: Id):
    return _set_active(request, user_id, False)


@router.post("/users/{user_id}/enable", response=UserOut, summary="Enable a user again")
def enable_user(request, user_id: Id):
    return _set_active(request, user_id, True)


@router.post(
    "/users/{user_id}/password-link",
    response={201: PasswordLinkOut},
    summary="A new one-time set-password link (older ones stop working)",
)
def create_password_link(request, user_id: Id, response: HttpResponse):
    require(request.auth, "accounts.change_user")
    _no_store(response)
    user = get_scoped_or_404(User, request.auth, CHANGE, pk=user_id)
    return Status(201, _link(request, user))


@router.post(
    "/users/{user_id}/two-factor/reset",
    response={204: None},
    summary="Remove a user's authenticator (a lost phone)",
)
def reset_two_factor(request, user_id: Id):
    require(request.auth, "accounts.change_user")
    user = get_scoped_or_404(User, request.auth, CHANGE, pk=user_id)
    two_factor_reset(actor=request.auth, user=user)
    return Status(204, None)
