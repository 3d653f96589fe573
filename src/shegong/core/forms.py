"""Form helpers shared by the apps' pages: the base of every page form (the input
boundary's limits on every field), service errors shown on the form, date pickers."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shegong.core.inputs import bound_form_fields

# Django 6's label of an empty choice ("- Select an option -"), said here so that the
# project's catalogue translates it (Django's own Chinese catalogue lacks it).
BLANK_CHOICE_LABEL = _("- Select an option -")


class BoundedForm(forms.Form):
    """Base of every page form: each field gets the input boundary's limits where it has
    none of its own (``core.inputs.bound_form_fields``), and a bound form that does not
    validate makes the POST answer 422 (``core.middleware.InputBoundaryMiddleware``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_form_fields(self)
        style_widgets(self)

    def full_clean(self):
        super().full_clean()
        if self.is_bound and self._errors:
            from shegong.core.middleware import form_invalid

            form_invalid.set(True)
            for name in self._errors:
                if name in self.fields:
                    widget = self.fields[name].widget
                    widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        from shegong.core.middleware import form_invalid

        form_invalid.set(True)


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


def style_widgets(form) -> None:
    """Give every widget the design system's class (Tabler/Bootstrap): inputs and text
    areas ``form-control``, selects ``form-select``, check boxes and radios
    ``form-check-input``."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(
            widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple
        ):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        elif isinstance(widget, forms.HiddenInput):
            continue
        else:
            css = "form-control"
        classes = widget.attrs.get("class", "")
        if css not in classes.split():
            widget.attrs["class"] = f"{classes} {css}".strip()


class UploadForm(BoundedForm):
    """An .xlsx file to import (see the page's template); ``kinds`` offers a choice of what
    the file holds when the page takes more than one kind."""

    file = forms.FileField(label=_("Excel file (.xlsx)"))

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds:
            self.fields["kind"] = forms.ChoiceField(
                label=_("The file holds"), choices=kinds, widget=forms.RadioSelect
            )
            self.order_fields(["kind", "file"])
