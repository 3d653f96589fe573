"""`shegong setup [--demo]`: migrate, load the shipped divisions, and create demo users."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from shegong.core.rows import refresh_statistics
from shegong.geo.io import import_divisions
from shegong.geo.management.commands.import_divisions import shipped_chongqing_files


class Command(BaseCommand):
    help = "Prepare the database: migrations, Chongqing's divisions, and (demo mode) demo users."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="create one demo user per role")

    def handle(self, *args, demo: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        result = import_divisions(paths=shipped_chongqing_files())
        self.stdout.write(
            f"Chongqing divisions: {result.created} created, {result.unchanged} unchanged"
        )
        from shegong.network.services import seed_article_standard

        if seed_article_standard():
            self.stdout.write("staffing standard: the local standard (F4–F8) installed")
        from shegong.projects.services import seed_default_indicator_tree

        if seed_default_indicator_tree():
            self.stdout.write("evaluation: the default indicator tree installed")
        if not demo:
            return
        if not settings.DEMO_MODE:
            raise CommandError("--demo needs SHEGONG_DEMO=1 (never in production)")
        from shegong.accounts.demo import DEMO_PASSWORD, demo_users_create
        from shegong.network.demo import demo_network_create

        rows = demo_users_create()
        from shegong.workforce.demo import demo_workforce_create

        made = demo_network_create()
        if made:
            self.stdout.write(
                "demo network: {centres} centres, {stations} stations, {rooms} operating rooms, "
                "{social_workers} social workers".format(**made)
            )
        made = demo_workforce_create()
        if made:
            self.stdout.write(
                "demo workforce: {social_workers_added} more social workers, {courses} courses, "
                "{universities} universities, {awards} awards, {dispatches} dispatches".format(
                    **made
                )
            )
        from shegong.projects.demo import demo_projects_create

        made = demo_projects_create()
        if made:
            self.stdout.write(
                "demo projects: {agencies} agencies, {projects} projects "
                "({livelihood_security_projects} livelihood-security), {evaluations} "
                "evaluations, {agency_flags} agency flags".format(**made)
            )
        from shegong.funding.demo import demo_funding_create

        made = demo_funding_create()
        if made:
            self.stdout.write(
                "demo funding: {sources} fund sources, {accounts} accounts, {movements} "
                "movements, {payments} milestone payments (¥{paid})".format(**made)
            )
        from shegong.casework.demo import demo_casework_create

        made = demo_casework_create()
        if made:
            self.stdout.write(
                "demo casework: {residents} residents, {cases} cases, {groups} groups, "
                "{service_records} service records ({poverty_person_times} poverty-alleviation "
                "person-times, F28)".format(**made)
            )
        from shegong.accounts.demo import demo_agency_user_create

        agency_row = demo_agency_user_create()
        if agency_row is not None:
            rows.append(agency_row)
        # fresh planner statistics of what the demo filled (committed by now)
        refresh_statistics("geo", "accounts", "network", "workforce", "projects", "funding")
        refresh_statistics("casework", "core")
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for demo_user, division in rows:
            self.stdout.write(
                f"  {demo_user.username:<10} {demo_user.role:<15} {division.name} ({division.code})"
            )
