"""Sign in and out, personal API tokens, and the user list for security administrators."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shegong.accounts.forms import LoginForm, TokenCreateForm
from shegong.accounts.models import ApiToken, User
from shegong.accounts.services import api_token_create, api_token_revoke
from shegong.core.permissions import permission_required_or_403
from shegong.core.roles import Role
from shegong.core.scoping import CHANGE, get_scoped_or_404


class LoginView(auth_views.LoginView):
    """The sign-in page (says so when the platform runs in demo mode)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


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
    users = User.objects.restrict(request.user, "view").select_related("division")
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
