"""Forms for signing in and for personal API tokens."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from shegong.core.forms import BoundedForm


class LoginForm(AuthenticationForm):
    """Sign-in form; the same message for a wrong user name and a wrong password."""

    error_messages = {
        "invalid_login": _("The user name or password is not correct."),
        "inactive": _("This account is disabled."),
    }


class TokenCreateForm(BoundedForm):
    """Name and optional expiry of a new API token."""

    name = forms.CharField(label=_("Name"), max_length=100)
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class TwoFactorForm(BoundedForm):
    """The 6-digit code of the authenticator app."""

    code = forms.CharField(
        label=_("Code"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
