"""Sign in and out, personal API tokens, setting a password through a one-time link, and
user administration for security administrators (list, create, edit, disable and enable,
one-time set-password links, two-factor reset, bulk onboarding from .xlsx)."""

import time

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shegong.accounts.forms import (
    LoginForm,
    SetPasswordForm,
    TokenCreateForm,
    TwoFactorForm,
    UserForm,
)
from shegong.accounts.io import USER_COLUMNS, USER_IMPORT_KIND, user_template
from shegong.accounts.lists import user_list_page
from shegong.accounts.models import ApiToken, TwoFactorDevice, User
from shegong.accounts.services import (
    api_token_create,
    api_token_revoke,
    password_link_create,
    password_link_find,
    password_link_hours,
    password_set_by_link,
    user_create,
    user_set_active,
    user_update,
)
from shegong.accounts.two_factor import (
    TWO_FACTOR_SESSION_KEY,
    device_confirmed,
    passed_two_factors,
    provisioning_uri,
    qr_svg,
    two_factor_begin,
    two_factor_required,
    two_factor_reset,
    two_factor_verify,
)
from shegong.core.forms import add_service_errors
from shegong.core.middleware import client_ip
from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404
from shegong.core.views import import_page
from shegong.core.xlsx import xlsx_bytes_response
from shegong.geo.models import Division

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
            request.session[TWO_FACTOR_SESSION_KEY] = True
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
                two_factor=passed_two_factors(request),
                name=form.cleaned_data["name"],
                expires_at=form.cleaned_data["expires_at"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:  # a role that needs two factors, signed in without
            form.add_error(None, str(exc))
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
    """Users in the security administrator's scope: search, filters by role and status,
    last sign-in, phones masked (a declared list, ``accounts.lists``); each user's page has
    the actions (disable or enable, password link, two-factor reset)."""
    return user_list_page(request)


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


# --- User administration (security administrators) ------------------------------------------


def _agencies(user):
    from shegong.network.models import SocialOrganisation

    return (
        SocialOrganisation.objects.restrict(user, VIEW)
        .filter(is_social_work_agency=True)
        .order_by("name")
    )


def _division(request, form) -> Division | None:
    code = form.cleaned_data["division_code"].strip()
    division = (
        Division.objects.restrict(request.user, VIEW).filter(code=code, is_grouping=False).first()
    )
    if division is None:
        form.add_error("division_code", _("No division with this code in your area."))
    return division


def _link_page(request, user: User, raw: str, *, created: bool = False):
    """The one-time set-password link, shown once (never stored in clear, never emailed)."""
    link = request.build_absolute_uri(reverse("accounts:set_password_link", kwargs={"key": raw}))
    response = render(
        request,
        "accounts/password_link.html",
        {"target": user, "link": link, "created": created, "hours": password_link_hours()},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@permission_required_or_403("accounts.add_user")
def user_create_view(request):
    """Create a user with a role and a division; they set their password through a
    one-time link, shown on the next page."""
    form = UserForm(request.POST or None, agencies=_agencies(request.user))
    if request.method == "POST" and form.is_valid():
        division = _division(request, form)
        if division is not None:
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    user = user_create(
                        actor=request.user,
                        username=data["username"],
                        full_name=data["full_name"],
                        role=data["role"],
                        division=division,
                        organisation=data["organisation"],
                        phone=data["phone"],
                    )
                    raw = password_link_create(actor=request.user, user=user)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                return _link_page(request, user, raw, created=True)
    return render(request, "accounts/user_form.html", {"form": form, "target": None})


@login_required
@require_http_methods(["GET", "POST"])
@permission_required_or_403("accounts.change_user")
def user_edit_view(request, pk: int):
    """Change a user's name, role, division, agency or phone."""
    target = get_scoped_or_404(User.objects.select_related("division"), request.user, CHANGE, pk=pk)
    initial = {
        "full_name": target.full_name,
        "role": target.role,
        "division_code": target.division.code,
        "organisation": target.organisation_id,
        "phone": target.phone,
    }
    form = UserForm(
        request.POST or None, initial=initial, agencies=_agencies(request.user), editing=True
    )
    if request.method == "POST" and form.is_valid():
        division = _division(request, form)
        if division is not None:
            data = form.cleaned_data
            try:
                user_update(
                    actor=request.user,
                    user=target,
                    full_name=data["full_name"],
                    role=data["role"],
                    division=division,
                    organisation=data["organisation"],
                    phone=data["phone"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The user %(name)s was saved.") % {"name": target})
                return redirect("accounts:users")
    response = render(
        request,
        "accounts/user_form.html",
        {
            "form": form,
            "target": target,
            "has_two_factor": TwoFactorDevice.objects.filter(user=target).exists(),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
@permission_required_or_403("accounts.change_user")
def user_active_view(request, pk: int):
    """Disable a user (their sessions, tokens and links stop at once) or enable them again."""
    target = get_scoped_or_404(User, request.user, CHANGE, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        user_set_active(actor=request.user, user=target, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            (_("%(name)s may sign in again.") if active else _("%(name)s can no longer sign in."))
            % {"name": target},
        )
    return redirect("accounts:users")


@login_required
@require_POST
@permission_required_or_403("accounts.change_user")
def user_password_link_view(request, pk: int):
    """Make a new one-time set-password link for a user (a forgotten password): their older
    links stop working; their password keeps working until they set a new one."""
    target = get_scoped_or_404(User, request.user, CHANGE, pk=pk)
    try:
        raw = password_link_create(actor=request.user, user=target)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:users")
    return _link_page(request, target, raw)


@login_required
@require_http_methods(["GET", "POST"])
@permission_required_or_403("accounts.add_user")
def user_import_view(request):
    """Upload an .xlsx of users; the import runs in the background and its page gives the
    one-time set-password links of the new users as an .xlsx."""
    return import_page(
        request,
        kinds={"users": (USER_IMPORT_KIND, _("Users"))},
        title=_("Import users"),
        intro=_(
            "Create many users at once. The whole file is checked first: if any row is wrong, "
            "nothing is imported and every wrong row is listed with its reason. When the "
            "import has finished, its page gives an .xlsx with a one-time link for each new "
            "user to set their password: hand each link to its user. Importing the same file "
            "again creates nobody and gives fresh links to those who have not set a password "
            "yet."
        ),
        templates=[(reverse("accounts:user_import_template"), _("Download the template (.xlsx)"))],
        columns=USER_COLUMNS,
    )


@login_required
@require_GET
@permission_required_or_403("accounts.add_user")
def user_import_template_view(request):
    """The users template (.xlsx)."""
    return xlsx_bytes_response("users-template.xlsx", user_template())


# --- Setting a password through a one-time link (no sign-in) -------------------------------

SET_PASSWORD_KEY = "set_password_key"


@require_GET
def set_password_link_view(request, key: str):
    """The link itself: remembered in the session and taken out of the address (so it is not
    left in the browser's history or sent on as a referrer), then the form."""
    if password_link_find(key) is None:
        return render(request, "accounts/set_password.html", {"invalid": True}, status=404)
    request.session[SET_PASSWORD_KEY] = key
    return redirect("accounts:set_password")


@require_http_methods(["GET", "POST"])
def set_password_view(request):
    """Set one's password with the link remembered in the session."""
    key = request.session.get(SET_PASSWORD_KEY, "")
    link = password_link_find(key)
    if link is None:
        return render(request, "accounts/set_password.html", {"invalid": True}, status=404)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_set_by_link(raw=key, password=form.cleaned_data["password1"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            request.session.pop(SET_PASSWORD_KEY, None)
            messages.success(request, _("Your password is set: sign in with it."))
            return redirect("accounts:login")
    response = render(request, "accounts/set_password.html", {"form": form, "target": link.user})
    response["Cache-Control"] = "no-store"
    return response
