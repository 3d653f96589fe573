"""Sign in and out, personal API tokens, and the user list for security administrators."""

import time

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shegong.accounts.forms import LoginForm, TokenCreateForm, TwoFactorForm
from shegong.accounts.models import ApiToken, TwoFactorDevice, User
from shegong.accounts.services import api_token_create, api_token_revoke
from shegong.accounts.two_factor import (
    device_confirmed,
    provisioning_uri,
    qr_svg,
    two_factor_begin,
    two_factor_required,
    two_factor_reset,
    two_factor_verify,
)
from shegong.core.middleware import client_ip
from shegong.core.permissions import permission_required_or_403
from shegong.core.roles import Role
from shegong.core.scoping import CHANGE, get_scoped_or_404

PENDING_USER = "two_factor_user"
PENDING_SINCE = "two_factor_since"
PENDING_NEXT = "two_factor_next"
PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    """The sign-in page (says so when the platform runs in demo mode). For a user who needs
    a second factor the password only leads to the code step: no session is signed in."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor_required(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_USER] = user.pk
        self.request.session[PENDING_SINCE] = time.time()
        self.request.session[PENDING_NEXT] = self.get_success_url()
        return redirect("accounts:two_factor")


@require_http_methods(["GET", "POST"])
def two_factor(request):
    """The code step of signing in; sets up the authenticator on a first sign-in."""
    pk = request.session.get(PENDING_USER)
    since = request.session.get(PENDING_SINCE, 0)
    if not pk or time.time() - since > PENDING_SECONDS:
        for key in (PENDING_USER, PENDING_SINCE, PENDING_NEXT):
            request.session.pop(key, None)
        messages.error(request, _("Sign in again: the code step expired."))
        return redirect("accounts:login")
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        return redirect("accounts:login")
    enrolling = not device_confirmed(user)
    device = two_factor_begin(user=user) if enrolling else None
    form = TwoFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor_verify(
            user=user, code=form.cleaned_data["code"], ip_address=client_ip(request)
        ):
            target = request.session.get(PENDING_NEXT) or "/"
            for key in (PENDING_USER, PENDING_SINCE, PENDING_NEXT):
                request.session.pop(key, None)
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                target = "/"
            return redirect(target)
        form.add_error("code", _("The code is not correct, or was already used."))
    context = {"form": form, "enrolling": enrolling}
    if enrolling:
        uri = provisioning_uri(device)
        context.update({"qr": qr_svg(uri), "secret": device.secret})
    response = render(request, "accounts/two_factor.html", context)
    response["Cache-Control"] = "no-store"
    return response


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only); the session ends on the server."""


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    """The user's own API tokens; create one (its secret is shown once)."""
    new_secret = None
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_secret = api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expires_at=form.cleaned_data["expires_at"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            form = TokenCreateForm()
    tokens = ApiToken.objects.restrict(request.user, "view")
    response = render(
        request,
        "accounts/token_list.html",
        {"form": form, "tokens": tokens, "new_secret": new_secret},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, pk: int):
    """Revoke one of the user's own tokens."""
    token = get_scoped_or_404(ApiToken, request.user, CHANGE, pk=pk)
    api_token_revoke(user=request.user, token=token)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("accounts:tokens")


@login_required
@require_GET
@permission_required_or_403("accounts.view_user")
def user_list(request):
    """Users in the security administrator's scope, searchable and filtered by role."""
    users = (
        User.objects.restrict(request.user, "view")
        .select_related("division")
        .annotate(has_two_factor=Exists(TwoFactorDevice.objects.filter(user=OuterRef("pk"))))
    )
    query = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    if query:
        users = users.filter(username__icontains=query) | users.filter(full_name__icontains=query)
    if role in Role.values:
        users = users.filter(role=role)
    page = Paginator(users.order_by("username"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/user_list.html",
        {"page": page, "query": query, "role": role, "roles": Role.choices},
    )


@login_required
@require_POST
@permission_required_or_403("accounts.change_user")
def two_factor_reset_view(request, pk: int):
    """Remove a user's authenticator (lost phone); they set up a new one at next sign-in."""
    user = get_scoped_or_404(User, request.user, CHANGE, pk=pk)
    if two_factor_reset(actor=request.user, user=user):
        messages.success(
            request,
            _("The authenticator of %(name)s was removed; a new one is set up at the next sign-in.")
            % {"name": user.username},
        )
    return redirect("accounts:users")
