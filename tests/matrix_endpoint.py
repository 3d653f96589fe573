"""The scope matrix's vocabulary: what a case knows (``Ctx``) and how to call one URL
(``Endpoint``). Shared by ``tests/test_scope_matrix.py`` and the per-part matrix modules
(``tests/casework/matrix_*.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shegong.accounts.models import User
from shegong.geo.models import Division


@dataclass
class Ctx:
    """What a case knows: the user, and objects inside and outside their scope."""

    user: User
    inside_code: str
    outside_code: str
    own_token_id: int
    foreign_token_id: int
    outsider: User
    net: dict = field(default_factory=dict)

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
    roles: set[str] | None = None  # when set, only these roles succeed (tier rules)
    public: bool = False  # reachable without signing in
    inside: Callable[[Ctx], dict] = field(default=lambda c: {})
    outside: Callable[[Ctx], dict] | None = None  # kwargs of an object outside scope
    query: Callable[[Ctx, bool], dict] | None = None  # query string (inside/outside)
    body: dict | Callable[[Ctx, bool], dict] | None = None
    ok: int = 200
    # Given the response of the *outside* variant of a list, check nothing leaked.
    no_leak: Callable[[Ctx, object], bool] | None = None
