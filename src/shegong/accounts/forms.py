"""Forms for signing in, personal API tokens, user administration and setting a password
through a one-time link."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from shegong.core.forms import BoundedForm
from shegong.core.roles import Role


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


class DivisionPickerInput(forms.TextInput):
    """A division code typed or picked: as the user types a name or a code, the divisions of
    their area that match are offered (htmx fills a datalist from ``geo:search``)."""

    def __init__(self, attrs=None):
        super().__init__(
            {
                "list": "division-options",
                "autocomplete": "off",
                "inputmode": "search",
                "hx-get": reverse_lazy("geo:search"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#division-options",
                "hx-swap": "innerHTML",
                **(attrs or {}),
            }
        )

    def render(self, name, value, attrs=None, renderer=None):
        from django.utils.html import format_html

        field = super().render(name, value, attrs, renderer)
        return format_html('{}<datalist id="division-options"></datalist>', field)


class UserForm(BoundedForm):
    """A user's details as the security administrator sets them (the user name only when
    creating)."""

    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        help_text=_("Letters, digits and _ . @ + - ; the user signs in with it."),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=100)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    division_code = forms.CharField(
        label=_("Division"),
        max_length=12,
        widget=DivisionPickerInput(),
        help_text=_("Type a name or a code and pick the division: the user's area."),
    )
    organisation = forms.ModelChoiceField(
        label=_("Agency (contracted agency staff only)"), queryset=None, required=False
    )
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)

    def __init__(self, *args, agencies=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = agencies
        if editing:
            del self.fields["username"]


class SetPasswordForm(BoundedForm):
    """A new password, twice."""

    password1 = forms.CharField(
        label=_("New password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters, not a common password."),
    )
    password2 = forms.CharField(
        label=_("New password again"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return cleaned
