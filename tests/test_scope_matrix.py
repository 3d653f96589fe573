"""The scope matrix (security.md 6): every page and API endpoint × every role × inside and
outside the role's scope, plus anonymous access.

Endpoints are discovered from the URL configuration: a new URL without an entry in ENDPOINTS
fails ``test_every_url_is_in_the_matrix``, so nothing can escape the matrix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from shegong.accounts.models import User
from shegong.accounts.services import api_token_create
from shegong.core.audit import audit_record
from shegong.core.roles import Role
from shegong.geo.models import Division
from tests.conftest import ROLE_DIVISIONS, make_user

pytestmark = pytest.mark.django_db


@dataclass
class Ctx:
    """What a case knows: the user, and objects inside and outside their scope."""

    user: User
    inside_code: str
    outside_code: str
    own_token_id: int
    foreign_token_id: int
    outsider: User

    @property
    def outside_name(self) -> str:
        return Division.objects.get(code=self.outside_code).name

    @property
    def inside_name(self) -> str:
        return Division.objects.get(code=self.inside_code).name


@dataclass
class Endpoint:
    """How to call one URL and what each role should get."""

    method: str = "get"
    api: bool = False
    perm: str | None = None  # role permission needed; None: every signed-in user
    public: bool = False  # reachable without signing in
    inside: Callable[[Ctx], dict] = field(default=lambda c: {})
    outside: Callable[[Ctx], dict] | None = None  # kwargs of an object outside scope
    query: Callable[[Ctx, bool], dict] | None = None  # query string (inside/outside)
    body: dict | None = None
    ok: int = 200
    # Given the response of the *outside* variant of a list, check nothing leaked.
    no_leak: Callable[[Ctx, object], bool] | None = None


def _html_lacks(text_of: Callable[[Ctx], str]):
    return lambda ctx, response: text_of(ctx) not in response.content.decode()


def _api_codes_in_scope(ctx: Ctx, response) -> bool:
    return all(d["code"].startswith(ctx.user.scope_prefix) for d in response.json()["results"])


ENDPOINTS: dict[str, Endpoint] = {
    "core:home": Endpoint(no_leak=_html_lacks(lambda c: c.outside_name)),
    "core:audit": Endpoint(
        perm="core.view_auditevent", no_leak=_html_lacks(lambda c: c.outsider.username)
    ),
    "accounts:login": Endpoint(public=True, ok=302),  # signed-in users are sent home
    "accounts:logout": Endpoint(method="post", ok=302),
    "accounts:tokens": Endpoint(no_leak=_html_lacks(lambda c: "foreign-token")),
    "accounts:token_revoke": Endpoint(
        method="post",
        ok=302,
        inside=lambda c: {"pk": c.own_token_id},
        outside=lambda c: {"pk": c.foreign_token_id},
    ),
    "accounts:users": Endpoint(
        perm="accounts.view_user", no_leak=_html_lacks(lambda c: c.outsider.username)
    ),
    "geo:browser": Endpoint(ok=302),
    "geo:search": Endpoint(
        query=lambda c, inside: {"q": c.inside_name if inside else c.outside_name},
        no_leak=_html_lacks(lambda c: f"/divisions/{c.outside_code}/"),
    ),
    "geo:detail": Endpoint(
        inside=lambda c: {"code": c.inside_code}, outside=lambda c: {"code": c.outside_code}
    ),
    "api:openapi-json": Endpoint(),
    "api:openapi-view": Endpoint(),
    "api:api-root": Endpoint(api=True, public=True, ok=404),  # ninja's placeholder: always 404
    "api:me": Endpoint(api=True),
    "api:list_tokens": Endpoint(
        api=True, no_leak=lambda c, r: all(t["id"] != c.foreign_token_id for t in r.json())
    ),
    "api:create_token": Endpoint(api=True, method="post", body={"name": "matrix"}, ok=201),
    "api:revoke_token": Endpoint(
        api=True,
        method="delete",
        ok=204,
        inside=lambda c: {"token_id": c.own_token_id},
        outside=lambda c: {"token_id": c.foreign_token_id},
    ),
    "api:list_divisions": Endpoint(
        api=True,
        query=lambda c, inside: {"code": c.inside_code if inside else c.outside_code},
        no_leak=lambda c, r: r.json()["count"] == 0,
    ),
    "api:get_division": Endpoint(
        api=True,
        inside=lambda c: {"code": c.inside_code},
        outside=lambda c: {"code": c.outside_code},
    ),
    "api:list_children": Endpoint(
        api=True,
        inside=lambda c: {"code": c.inside_code},
        outside=lambda c: {"code": c.outside_code},
    ),
    "set_language": Endpoint(method="post", public=True, ok=302, body={"language": "en"}),
}


def discover_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_is_in_the_matrix():
    assert discover_url_names() == set(ENDPOINTS)


def _call(client, name: str, endpoint: Endpoint, kwargs: dict, query: dict | None):
    url = reverse(name, kwargs=kwargs)
    method = getattr(client, endpoint.method)
    if endpoint.method == "get":
        return method(url, query or {})
    if endpoint.api:
        return method(url, json.dumps(endpoint.body or {}), content_type="application/json")
    return method(url, endpoint.body or {})


@pytest.fixture
def ctx_for(db):
    def build(role: str) -> Ctx:
        inside, outside = ROLE_DIVISIONS[role]
        user = make_user(role, inside)
        outsider = make_user(Role.ROOM_WORKER, "510104017001", username="outsider-51")
        audit_record(actor=outsider, action="test.outside", object_repr="outsider's action")
        own, _ = api_token_create(user=user, name="own-token")
        foreign, _ = api_token_create(user=outsider, name="foreign-token")
        return Ctx(user, inside, outside, own.pk, foreign.pk, outsider)

    return build


def _allowed(endpoint: Endpoint, user: User) -> bool:
    return endpoint.perm is None or user.has_perm(endpoint.perm)


CASES = [(name, role) for name in ENDPOINTS for role in Role.values]


@pytest.mark.parametrize(("name", "role"), CASES)
def test_inside_scope(client, ctx_for, name, role):
    # given a signed-in user of this role
    endpoint = ENDPOINTS[name]
    ctx = ctx_for(role)
    client.force_login(ctx.user)
    # when they call the endpoint on something inside their scope
    response = _call(
        client,
        name,
        endpoint,
        endpoint.inside(ctx),
        endpoint.query(ctx, True) if endpoint.query else None,
    )
    # then they get it if their role allows, else 403
    expected = endpoint.ok if _allowed(endpoint, ctx.user) else 403
    assert response.status_code == expected, response.content[:300]


@pytest.mark.parametrize(
    ("name", "role"), [c for c in CASES if ENDPOINTS[c[0]].outside or ENDPOINTS[c[0]].no_leak]
)
def test_outside_scope(client, ctx_for, name, role):
    # given a signed-in user of this role
    endpoint = ENDPOINTS[name]
    ctx = ctx_for(role)
    client.force_login(ctx.user)
    kwargs = endpoint.outside(ctx) if endpoint.outside else endpoint.inside(ctx)
    # when they reach for something outside their scope
    response = _call(
        client, name, endpoint, kwargs, endpoint.query(ctx, False) if endpoint.query else None
    )
    # then it does not exist for them (404), or the role may not use the page at all (403),
    # and a list shows nothing from outside
    if not _allowed(endpoint, ctx.user):
        assert response.status_code == 403
    elif endpoint.outside:
        assert response.status_code == 404, response.content[:300]
    else:
        assert response.status_code == endpoint.ok
        assert endpoint.no_leak(ctx, response)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_anonymous(client, ctx_for, name):
    # given nobody signed in
    endpoint = ENDPOINTS[name]
    ctx = ctx_for(Role.COUNTY_STAFF)
    response = _call(
        client,
        name,
        endpoint,
        endpoint.inside(ctx),
        endpoint.query(ctx, True) if endpoint.query else None,
    )
    # then pages send them to sign in and the API answers 401, except public URLs
    if endpoint.public:
        assert response.status_code in (200, 302, 404)
    elif endpoint.api:
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_outside_scope_changes_nothing(client, ctx_for):
    # given a county user and someone else's token
    ctx = ctx_for(Role.COUNTY_STAFF)
    client.force_login(ctx.user)
    # when they try to revoke it through the page and the API
    client.post(reverse("accounts:token_revoke", kwargs={"pk": ctx.foreign_token_id}))
    client.delete(reverse("api:revoke_token", kwargs={"token_id": ctx.foreign_token_id}))
    # then it is untouched
    from shegong.accounts.models import ApiToken

    assert ApiToken.objects.get(pk=ctx.foreign_token_id).revoked_at is None
