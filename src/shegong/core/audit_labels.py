"""The audit trail in words (issue #13 item 6): each action code ("auth.login",
"resident.view") has a translatable label ("登录", "查看居民"), and each row names its object
("王某某" — a resident's masked name, never an ID) instead of "resident #4613"."""

from __future__ import annotations

import re

from django.apps import apps
from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

# Every action the platform writes to the trail, by its code.
ACTION_LABELS = {
    "auth.login": _("Sign in"),
    "auth.logout": _("Sign out"),
    "auth.login_failed": _("Failed sign-in"),
    "auth.locked_out": _("Account locked after failed sign-ins"),
    "login.two_factor_failed": _("Wrong two-factor code"),
    "two_factor.enrol": _("Set up two-factor sign-in"),
    "two_factor.reset": _("Reset two-factor sign-in"),
    "scope.refused": _("Refused: outside the user's area"),
    "audit.checkpoint": _("Sign the audit chain"),
    "retention.run": _("Apply the retention rules"),
    "account.create": _("Create an account"),
    "user.create": _("Create a user"),
    "user.update": _("Edit a user"),
    "user.enable": _("Enable or disable a user"),
    "user.import": _("Import users"),
    "user.password_link": _("Make a set-password link"),
    "user.password_set": _("Set a password"),
    "api_token.create": _("Create an API token"),
    "api_token.revoke": _("Revoke an API token"),
    "import_job.result_download": _("Download an import's result"),
    "division.import": _("Import divisions"),
    "division.change_code": _("Change a division code"),
    "division.set_population": _("Set a population"),
    "demo.network": _("Load the demo network"),
    "demo.workforce": _("Load the demo workforce"),
    "demo.funding": _("Load the demo funding"),
    "demo.projects": _("Load the demo projects"),
    "demo.casework": _("Load the demo casework"),
    "facility.create": _("Create a facility"),
    "facility.update": _("Edit a facility"),
    "facility.change_status": _("Change a facility's status"),
    "facility.import": _("Import facilities"),
    "staffing_standard.create": _("Add a staffing standard"),
    "staffing_standard.end": _("End a staffing standard"),
    "organisation.create": _("Register a social organisation"),
    "supervision_visit.create": _("Record a supervision visit"),
    "required_fix.resolve": _("Resolve a required fix"),
    "social_worker.create": _("Register a social worker"),
    "social_worker.view": _("View a social worker"),
    "social_worker.search": _("Search social workers"),
    "social_worker.import": _("Import social workers"),
    "social_worker.export": _("Export social workers"),
    "posting.create": _("Record a posting"),
    "posting.end": _("End a posting"),
    "posting.import": _("Import postings"),
    "registration.add": _("Add a registration"),
    "education.add": _("Add an education record"),
    "ce_credit.add": _("Add continuing-education credits"),
    "course.create": _("Create a course"),
    "course.set_headcount": _("Set a course's headcount"),
    "enrolment.create": _("Enrol in a course"),
    "enrolment.set_attendance": _("Record attendance"),
    "enrolment.complete": _("Complete a course"),
    "training_programme.create": _("Create a training programme"),
    "award_scheme.create": _("Create an award scheme"),
    "award.create": _("Record an award"),
    "award.export": _("Export awards"),
    "university.create": _("Add a university"),
    "degree_programme.add": _("Add a degree programme"),
    "graduate_cohort.record": _("Record graduates"),
    "dispatch.create": _("Dispatch a social worker"),
    "dispatch.end": _("End a dispatch"),
    "dispatch.export": _("Export dispatches"),
    "innovation_base.add": _("Add an innovation base"),
    "fund_source.create": _("Add a fund source"),
    "movement.appropriation": _("Record an appropriation"),
    "movement.allocation": _("Record an allocation"),
    "movement.disbursement": _("Record a disbursement"),
    "movement.refund": _("Record a refund"),
    "movement.income": _("Record income"),
    "movement.reward": _("Record a reward payment"),
    "movement.reversal": _("Reverse a movement"),
    "assistance_spending.record": _("Record assistance spending"),
    "assistance_spending.correct": _("Correct assistance spending"),
    "indicator_tree.create": _("Create an indicator tree"),
    "project.apply": _("Apply for a project"),
    "project.submit": _("Submit a project"),
    "project.preliminary_pass": _("Pass a project's first review"),
    "project.preliminary_reject": _("Reject a project at the first review"),
    "project.expert_pass": _("Pass a project's expert review"),
    "project.expert_reject": _("Reject a project at the expert review"),
    "project.objection_upheld": _("Uphold an objection to a project"),
    "project.contract": _("Sign a project's contract"),
    "project.start": _("Start a project"),
    "project.midterm": _("Evaluate a project at midterm"),
    "project.final": _("Evaluate a project at the end"),
    "project.close": _("Close a project"),
    "project.terminate": _("Terminate a project"),
    "project.budget_line_add": _("Add a budget line"),
    "project.milestone_add": _("Add a milestone"),
    "project.supervision_add": _("Record project supervision"),
    "project.report_submit": _("Submit a project report"),
    "project.objection_add": _("Raise an objection to a project"),
    "project.objection_resolve": _("Resolve an objection to a project"),
    "evaluation.scores_record": _("Record evaluation scores"),
    "evaluation.fix_add": _("Add an evaluation fix"),
    "evaluation.fix_resolve": _("Resolve an evaluation fix"),
    "evaluation.evidence_upload": _("Upload evaluation evidence"),
    "evaluation.complete": _("Complete an evaluation"),
    "resident.create": _("Register a resident"),
    "resident.update": _("Edit a resident"),
    "resident.view": _("View a resident"),
    "resident.search": _("Search residents"),
    "resident.export": _("Export residents"),
    "resident.break_glass": _("Open a protected resident's record"),
    "resident.referral_view": _("View a resident through a referral"),
    "resident.view_service_record": _("View a service record"),
    "resident.transfer": _("Transfer a resident"),
    "resident.guardian_set": _("Set a resident's guardian"),
    "resident.anonymise": _("Anonymise a resident"),
    "household.create": _("Create a household"),
    "household.member_add": _("Add a household member"),
    "special_status.add": _("Add a special status"),
    "special_status.end": _("End a special status"),
    "poverty_designation.designate": _("Designate a low-income household"),
    "poverty_designation.lift": _("Lift a low-income designation"),
    "consent.record": _("Record a consent"),
    "consent.withdraw": _("Withdraw a consent"),
    "service_record.create": _("Record a service"),
    "service_month_totals.rebuild": _("Rebuild the monthly service totals"),
    "case.open": _("Open a case"),
    "case.view": _("View a case"),
    "case.update": _("Edit a case"),
    "case.advance": _("Move a case to its next stage"),
    "case.approve": _("Approve a case"),
    "case.decide": _("Decide on a case"),
    "case.reassign": _("Reassign a case"),
    "case.set_review": _("Set a case's review date"),
    "case.note_add": _("Add a case note"),
    "case.goal_add": _("Add a case goal"),
    "case.goal_mark": _("Mark a case goal"),
    "case.break_glass": _("Open a protected case"),
    "case.search": _("Search cases"),
    "case.export": _("Export cases"),
    "referral.send": _("Send a referral"),
    "referral.answer": _("Answer a referral"),
    "referral.complete": _("Complete a referral"),
    "group.create": _("Create a group"),
    "group.advance": _("Move a group to its next stage"),
    "group.member_add": _("Add a group member"),
    "group.member_remove": _("Remove a group member"),
    "activity.create": _("Record a community activity"),
}


RESIDENT_TYPE = "casework.resident"
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def action_label(action: str) -> str:
    """The action in words; an unknown code is shown as it is."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def action_choices() -> list[tuple[str, str]]:
    """The declared actions as (code, label), by label."""
    return sorted(((code, str(label)) for code, label in ACTION_LABELS.items()), key=lambda c: c[1])


def mask_name(name: str) -> str:
    """A person's name with all but its first character hidden: 王小明 → 王某某."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "某" * max(len(name) - 1, 1)


def with_resident_names(events):
    """Annotate each audit row about a resident with that resident's name (``resident_name``),
    to be shown masked."""
    Resident = apps.get_model("casework", "Resident")
    names = Resident.objects.annotate(pk_text=Cast("pk", CharField())).filter(
        pk_text=OuterRef("object_id")
    )
    return events.annotate(resident_name=Subquery(names.values("name")[:1]))


def object_label(event) -> str:
    """What the row is about, in words: a resident by masked name, other objects by what the
    row recorded; a code in English is replaced by the kind of object and its number."""
    if event.object_type == RESIDENT_TYPE and event.object_id:
        name = getattr(event, "resident_name", None)
        if name:
            return mask_name(name)
        return f"{_type_label(event.object_type)} #{event.object_id}"
    text = event.object_repr or ""
    if text and not _LATIN_WORD.search(text):
        return text
    if event.object_type:
        label = _type_label(event.object_type)
        return f"{label} #{event.object_id}" if event.object_id else label
    return "" if _LATIN_WORD.search(text) else text


def event_label(event) -> str:
    """The whole row in words: "查看居民 王某某"."""
    return " ".join(part for part in (action_label(event.action), object_label(event)) if part)


def _type_label(object_type: str) -> str:
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return ""
