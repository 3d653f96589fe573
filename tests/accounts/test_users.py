"""Creating users: contracted agency staff belong to an agency, nobody else does."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from shegong.accounts.services import user_create
from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.network.models import SocialOrganisation
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(db):
    return SocialOrganisation.objects.create(
        name="启航社工", uscc="TESTAGENCY0000009", division=Division.objects.get(code="500105")
    )


@pytest.fixture
def security(db):
    return make_user(Role.SECURITY_ADMIN, "50")


def _create(actor, role, organisation=None, code="500105"):
    return user_create(
        actor=actor,
        username=f"new-{role}",
        password=PASSWORD,
        role=role,
        division=Division.objects.get(code=code),
        organisation=organisation,
    )


def test_the_security_admin_creates_agency_staff_with_their_agency(security, agency):
    user = _create(security, Role.AGENCY_STAFF, agency)
    assert user.organisation == agency and user.role == Role.AGENCY_STAFF


def test_agency_staff_need_an_agency_and_others_may_not_have_one(security, agency):
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            _create(security, Role.AGENCY_STAFF)
        assert "must belong to an agency" in str(caught.value)
        with pytest.raises(ValidationError) as caught:
            _create(security, Role.COUNTY_STAFF, agency)
        assert "Only contracted agency staff" in str(caught.value)


def test_an_agency_outside_the_admins_scope_is_refused(agency):
    county_security = make_user(Role.SECURITY_ADMIN, "500107")
    with pytest.raises(PermissionDenied):
        _create(county_security, Role.AGENCY_STAFF, agency, code="500107")
