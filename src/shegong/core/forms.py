"""Form helpers shared by the apps' pages."""

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, field by field where possible, so the
    page is re-rendered with what the user typed and the reasons next to the fields."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class DateInput(forms.DateInput):
    """An HTML date picker."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class NoEchoInput(forms.TextInput):
    """A text box that never renders the value typed (a national ID is not sent back in
    a page, security.md 14): after an error the user types it again."""

    def format_value(self, value):
        return None
