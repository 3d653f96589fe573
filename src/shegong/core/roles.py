"""Roles and what each may do.

A role is a job in the three-tier system, not a bag of permissions: each user has exactly one
role and one division (see ``accounts.User``). What a role may do is declared here, in one
table; *where* it may do it is the user's division subtree, applied by
``RestrictedQuerySet.restrict``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The jobs users hold on the platform."""

    CITY_ADMIN = "city_admin", _("City administrator")
    COUNTY_STAFF = "county_staff", _("County guidance-centre staff")
    STATION_STAFF = "station_staff", _("Town station staff")
    ROOM_WORKER = "room_worker", _("Community room social worker")
    ANALYST = "analyst", _("Read-only analyst")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")
    AGENCY_STAFF = "agency_staff", _("Contracted agency staff")


# Permission names follow Django's "<app_label>.<action>_<model_name>" convention.
_EVERYONE = {
    "geo.view_division",
    # Personal API tokens: every user manages their own (scope_q limits them to the owner).
    "accounts.view_apitoken",
    "accounts.add_apitoken",
    "accounts.change_apitoken",
    # Background import jobs: scope_q shows a user only their own (a city admin their area's).
    "core.view_importjob",
}

# Reading the network (facilities, standards, organisations, supervision): no personal data.
_NETWORK_READ = {
    "network.view_facility",
    "network.view_facilitystatusperiod",
    "network.view_staffingstandard",
    "network.view_socialorganisation",
    "network.view_supervisionvisit",
    "network.view_requiredfix",
}
# Training, honours, universities and poverty designations as such: no personal data.
_TALENT_READ = {
    "workforce.view_trainingprogramme",
    "workforce.view_course",
    "workforce.view_awardscheme",
    "workforce.view_university",
    "workforce.view_degreeprogramme",
    "workforce.view_innovationbase",
    "workforce.view_graduatecohort",
    "geo.view_povertydesignation",
}
_NETWORK_READ |= _TALENT_READ
# The social-worker registry holds personal data (national ID, phone).
_WORKFORCE_READ = {
    "workforce.view_socialworker",
    "workforce.view_posting",
    "workforce.view_education",
    "workforce.view_registrationperiod",
    "workforce.view_continuingeducation",
    "workforce.view_enrolment",
    "workforce.view_award",
    "workforce.view_dispatch",
}
_WORKFORCE_WRITE = {
    "workforce.add_socialworker",
    "workforce.change_socialworker",
    "workforce.add_posting",
    "workforce.change_posting",
    "workforce.add_education",
    "workforce.add_registrationperiod",
    "workforce.add_continuingeducation",
    # Courses are run at every tier; registered people enrol and complete them.
    "workforce.add_course",
    "workforce.change_course",
    "workforce.add_enrolment",
    "workforce.change_enrolment",
}
# The city confers honours, partners with universities and designates poor areas.
_CITY_TALENT_WRITE = {
    "workforce.add_trainingprogramme",
    "workforce.change_trainingprogramme",
    "workforce.add_awardscheme",
    "workforce.change_awardscheme",
    "workforce.add_award",
    "workforce.change_award",
    "workforce.add_university",
    "workforce.change_university",
    "workforce.add_degreeprogramme",
    "workforce.add_innovationbase",
    "workforce.add_graduatecohort",
    "workforce.change_graduatecohort",
    "geo.add_povertydesignation",
    "geo.change_povertydesignation",
}
# Dispatches are arranged by the city and the counties.
_DISPATCH_WRITE = {"workforce.add_dispatch", "workforce.change_dispatch"}
# Which tiers each role manages (create, edit, change status): the city its centres, a
# county its stations, a station its rooms (issue #3).
MANAGED_TIERS: dict[str, frozenset[str]] = {
    Role.CITY_ADMIN: frozenset({"centre"}),
    Role.COUNTY_STAFF: frozenset({"station"}),
    Role.STATION_STAFF: frozenset({"room"}),
}
# Which tier's supervision visits each role records: a centre visits its stations, a
# station its rooms.
SUPERVISING_TIER: dict[str, str] = {Role.COUNTY_STAFF: "centre", Role.STATION_STAFF: "station"}
_FACILITY_WRITE = {"network.add_facility", "network.change_facility"}
_ORGANISATION_WRITE = {"network.add_socialorganisation", "network.change_socialorganisation"}
_SUPERVISION_WRITE = {
    "network.add_supervisionvisit",
    "network.add_requiredfix",
    "network.change_requiredfix",
}

# Money and projects (issue #5): reading the ledger and projects holds no personal data.
_MONEY_READ = {
    "funding.view_fundsource",
    "funding.view_account",
    "funding.view_movement",
    "funding.view_assistancespending",
    "projects.view_project",
    "projects.view_stagechange",
    "projects.view_objection",
    "projects.view_budgetline",
    "projects.view_paymentmilestone",
    "projects.view_monthlyreport",
    "projects.view_supervisionrecord",
    "projects.view_indicatortree",
    "projects.view_indicator",
    "projects.view_evaluation",
    "projects.view_score",
    "projects.view_evaluationfix",
    "projects.view_evidencefile",
    "projects.view_agencyflag",
}
# The ledger is kept by the city and the counties (sources, accounts, movements, the
# social-assistance spending behind the 1 % rule).
_LEDGER_WRITE = {
    "funding.add_fundsource",
    "funding.add_account",
    "funding.add_movement",
    "funding.add_assistancespending",
    "funding.change_assistancespending",
}
# Project life-cycle steps, each its own permission (checked by the projects services):
# apply (a purchasing station or centre), preliminary review (the county), expert review,
# public notice and contract (the county, or the city for its own), supervision and
# evaluation (the purchaser's supervisors), closing or terminating (county, city).
_PROJECT_APPLY = {
    "projects.add_project",
    "projects.change_project",
    "projects.add_budgetline",
    "projects.add_paymentmilestone",
}
# The purchaser supervises, and may file a monthly report for the agency.
_PROJECT_SUPERVISE = {"projects.add_supervisionrecord", "projects.add_monthlyreport"}
_PROJECT_REVIEW = {
    "projects.review_project",  # preliminary review
    "projects.approve_project",  # expert review, public notice, objections, contract
    "projects.add_objection",
    "projects.change_objection",
    "projects.close_project",  # close or terminate
    "projects.add_evaluation",
    "projects.change_evaluation",
    "projects.add_score",
    "projects.add_evaluationfix",
    "projects.change_evaluationfix",
    "projects.add_evidencefile",
}
_INDICATOR_CONFIG = {
    "projects.add_indicatortree",
    "projects.change_indicatortree",
    "projects.add_indicator",
}
# Staff of a contracted agency: their own projects only (Project.scope_q), reporting.
_AGENCY = {
    "projects.view_project",
    "projects.view_stagechange",
    "projects.view_budgetline",
    "projects.view_paymentmilestone",
    "projects.view_monthlyreport",
    "projects.view_supervisionrecord",
    "projects.view_evaluation",
    "projects.view_evaluationfix",
    "projects.view_evidencefile",
    "projects.add_monthlyreport",
    "projects.change_evaluationfix",  # report a fix done
    "projects.add_evidencefile",
}

# Services to residents (issue #6). Reading residents, cases, groups, activities, service
# records and referrals is reading personal data: never for the analyst.
_CASEWORK_READ = {
    "casework.view_resident",
    "casework.view_household",
    "casework.view_residence",
    "casework.view_consent",
    "casework.view_specialstatus",
    "casework.view_case",
    "casework.view_casestagechange",
    "casework.view_casegoal",
    "casework.view_casenote",
    "casework.view_workgroup",
    "casework.view_activity",
    "casework.view_servicerecord",
    "casework.view_referral",
}
# Front-line work: register residents, record statuses, run cases, groups and activities,
# record services and send or answer referrals.
_CASEWORK_WRITE = {
    "casework.add_resident",
    "casework.change_resident",
    "casework.add_household",
    "casework.change_household",
    "casework.add_consent",
    "casework.change_consent",
    "casework.add_specialstatus",
    "casework.change_specialstatus",
    "casework.add_case",
    "casework.change_case",
    "casework.add_casegoal",
    "casework.change_casegoal",
    "casework.add_casenote",
    "casework.add_workgroup",
    "casework.change_workgroup",
    "casework.add_activity",
    "casework.change_activity",
    "casework.add_servicerecord",
    "casework.add_referral",
    "casework.change_referral",
}
# Supervisors approve intake decisions (stations for their rooms, centres for stations).
_CASEWORK_SUPERVISE = {"casework.approve_case"}
# Seeing national ID and phone in clear (security.md 7): the front line that serves the
# person. Others with casework read rights see them masked.
_CASEWORK_IDENTITY = {"casework.view_identity"}
# Exporting personal data to a spreadsheet (security.md 17): logged and capped.
_CASEWORK_EXPORT = {"casework.export_personal"}
# Aggregates of services (person-times by group, domain, method, month): no personal data;
# groups of fewer than 5 people are suppressed for aggregate-only roles.
_CASEWORK_STATS = {"casework.view_servicestats"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CITY_ADMIN: frozenset(
        _EVERYONE
        | _NETWORK_READ
        | _WORKFORCE_READ
        | _WORKFORCE_WRITE
        | _FACILITY_WRITE
        | _ORGANISATION_WRITE
        | _CITY_TALENT_WRITE
        | _DISPATCH_WRITE
        | _MONEY_READ
        | _LEDGER_WRITE
        | _PROJECT_APPLY
        | _PROJECT_SUPERVISE
        | _PROJECT_REVIEW
        | _INDICATOR_CONFIG
        | {"geo.change_division", "network.add_staffingstandard", "network.change_staffingstandard"}
        | _CASEWORK_READ
        | _CASEWORK_STATS
    ),
    Role.COUNTY_STAFF: frozenset(
        _EVERYONE
        | _NETWORK_READ
        | _WORKFORCE_READ
        | _WORKFORCE_WRITE
        | _FACILITY_WRITE
        | _ORGANISATION_WRITE
        | _SUPERVISION_WRITE
        | _DISPATCH_WRITE
        | _MONEY_READ
        | _LEDGER_WRITE
        | _PROJECT_APPLY
        | _PROJECT_SUPERVISE
        | _PROJECT_REVIEW
        | _CASEWORK_READ
        | _CASEWORK_WRITE
        | _CASEWORK_SUPERVISE
        | _CASEWORK_EXPORT
        | _CASEWORK_STATS
    ),
    Role.STATION_STAFF: frozenset(
        _EVERYONE
        | _NETWORK_READ
        | _WORKFORCE_READ
        | _WORKFORCE_WRITE
        | _FACILITY_WRITE
        | _ORGANISATION_WRITE
        | _SUPERVISION_WRITE
        | _MONEY_READ
        | _PROJECT_APPLY
        | _PROJECT_SUPERVISE
        | _CASEWORK_READ
        | _CASEWORK_WRITE
        | _CASEWORK_SUPERVISE
        | _CASEWORK_IDENTITY
        | _CASEWORK_EXPORT
        | _CASEWORK_STATS
    ),
    Role.ROOM_WORKER: frozenset(
        _EVERYONE
        | _NETWORK_READ
        | _WORKFORCE_READ
        | _MONEY_READ
        | _CASEWORK_READ
        | _CASEWORK_WRITE
        | _CASEWORK_IDENTITY
        | _CASEWORK_STATS
    ),
    Role.ANALYST: frozenset(_EVERYONE | _NETWORK_READ | _MONEY_READ | _CASEWORK_STATS),
    Role.SECURITY_ADMIN: frozenset(
        _EVERYONE | {"accounts.view_user", "accounts.add_user", "accounts.change_user"}
    ),
    # Separation of duties (security.md 9): only the audit administrator reads the trail.
    Role.AUDIT_ADMIN: frozenset(_EVERYONE | {"core.view_auditevent"}),
    Role.AGENCY_STAFF: frozenset(_EVERYONE | _AGENCY),
}

# Roles that may never see personal data, only aggregates.
AGGREGATE_ONLY_ROLES = frozenset({Role.ANALYST})


def role_has_perm(role: str, perm: str) -> bool:
    """Whether ``role`` grants the permission ``perm`` ("app.action_model")."""
    return perm in ROLE_PERMISSIONS.get(role, frozenset())
