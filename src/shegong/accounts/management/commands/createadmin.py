"""`shegong createadmin`: the first security administrator and city administrator of a new
installation, each with a one-time link to set their own password (printed here once)."""

from __future__ import annotations

import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from shegong.accounts.models import User
from shegong.accounts.services import password_link_create, password_link_hours, user_create
from shegong.core.roles import Role
from shegong.geo.models import Division, Level


class Command(BaseCommand):
    help = (
        "Create the first security administrator and city administrator of a new "
        "installation. Each gets a one-time link to set their password, printed once. "
        "Afterwards the security administrator creates every other user on the users page."
    )

    def add_arguments(self, parser):
        parser.add_argument("--security", default="security", help="user name (security)")
        parser.add_argument("--city", default="cityadmin", help="user name (city administrator)")
        parser.add_argument(
            "--division", help="the city's division code (default: the one province loaded)"
        )
        parser.add_argument(
            "--base-url",
            default=os.environ.get("SHEGONG_BASE_URL", "http://127.0.0.1:8000"),
            help="where the platform is reached, for the links (or SHEGONG_BASE_URL)",
        )

    def handle(self, *args, security, city, division, base_url, **options):
        if User.objects.filter(role=Role.SECURITY_ADMIN, is_active=True).exists():
            raise CommandError(
                "A security administrator exists already: they create users on the users page."
            )
        area = self._division(division)
        try:
            with transaction.atomic():
                made = []
                for username, role, name in (
                    (security, Role.SECURITY_ADMIN, "安全管理员"),
                    (city, Role.CITY_ADMIN, "市级管理员"),
                ):
                    user = user_create(
                        actor=None, username=username, role=role, division=area, full_name=name
                    )
                    made.append((user, password_link_create(actor=None, user=user)))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        base = base_url.rstrip("/")
        self.stdout.write(
            f"Created for {area.name} ({area.code}). Each link works once, for "
            f"{password_link_hours()} hours; give it to its holder only:"
        )
        for user, raw in made:
            link = base + reverse("accounts:set_password_link", kwargs={"key": raw})
            self.stdout.write(f"  {user.username} ({user.get_role_display()}): {link}")

    def _division(self, code: str | None) -> Division:
        if code:
            area = Division.objects.filter(code=code).first()
            if area is None:
                raise CommandError(f"no division with the code {code}: import the divisions first")
            return area
        provinces = list(Division.objects.filter(level=Level.PROVINCE)[:2])
        if len(provinces) != 1:
            raise CommandError("give --division (the city's code, e.g. 50)")
        return provinces[0]
