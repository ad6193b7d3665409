import hashlib
import json

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.management import CommandError, call_command
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import User
from helpdesk.roles import Role

OLD_PASSWORD = "旧系统密码-2019"


def legacy_hex(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


@pytest.fixture
def export_csv(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(
        "username,email,name,role,password_hash\n"
        f"zhang.san,zs@example.cn,张 三,admin,{legacy_hex(OLD_PASSWORD)}\n"
        f"li.si,ls@example.cn,李四,operator,{legacy_hex('another').upper()}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.django_db
class TestImportLegacyUsers:
    def test_csv_import_creates_users_in_the_tenant(self, tenant_a, export_csv):
        call_command("import_legacy_users", str(export_csv), tenant=tenant_a.slug)
        zhang = User.objects.get(username="zhang.san")
        assert zhang.tenant == tenant_a
        assert zhang.role == Role.TENANT_ADMIN
        assert zhang.email == "zs@example.cn"
        assert zhang.password == f"legacy_sha256$${legacy_hex(OLD_PASSWORD)}"
        assert User.objects.get(username="li.si").role == Role.AGENT

    def test_json_import(self, tenant_a, tmp_path):
        path = tmp_path / "users.json"
        rows = [
            {
                "username": "wang",
                "email": None,
                "name": "王五",
                "role": "viewer",
                "password_hash": legacy_hex("pw"),
            }
        ]
        path.write_text(json.dumps({"users": rows}), encoding="utf-8")
        call_command("import_legacy_users", str(path), tenant=tenant_a.slug)
        assert User.objects.get(username="wang").role == Role.VIEWER

    def test_a_bad_row_imports_nothing_and_names_every_problem(self, tenant_a, tmp_path, capsys):
        path = tmp_path / "users.csv"
        path.write_text(
            "username,email,name,role,password_hash\n"
            f"good,g@example.cn,Good,agent,{legacy_hex('x')}\n"
            "bad-hash,b@example.cn,Bad,agent,1234\n"
            f",n@example.cn,NoName,agent,{legacy_hex('x')}\n"
            f"odd-role,o@example.cn,Odd,wizard,{legacy_hex('x')}\n",
            encoding="utf-8",
        )
        with translation.override("en"), pytest.raises(CommandError, match="3 bad row"):
            call_command("import_legacy_users", str(path), tenant=tenant_a.slug)
        errors = capsys.readouterr().err
        assert "row 2" in errors and "row 3" in errors and "row 4" in errors
        assert not User.objects.filter(username="good").exists()

    def test_unknown_tenant_is_a_clear_error(self, export_csv, db):
        with pytest.raises(CommandError, match="No tenant"):
            call_command("import_legacy_users", str(export_csv), tenant="nope")


@pytest.mark.django_db
class TestLegacyLogin:
    def login(self, username: str, password: str):
        return APIClient().post(
            "/api/v1/auth/login/", {"username": username, "password": password}, format="json"
        )

    def test_old_password_logs_in_and_is_rehashed_to_bcrypt(self, tenant_a, export_csv):
        call_command("import_legacy_users", str(export_csv), tenant=tenant_a.slug)
        response = self.login("zhang.san", OLD_PASSWORD)
        assert response.status_code == 200, response.content
        user = User.objects.get(username="zhang.san")
        assert identify_hasher(user.password).algorithm == "bcrypt_sha256"
        assert user.check_password(OLD_PASSWORD)
        assert self.login("zhang.san", OLD_PASSWORD).status_code == 200

    def test_wrong_password_changes_nothing(self, tenant_a, export_csv):
        call_command("import_legacy_users", str(export_csv), tenant=tenant_a.slug)
        before = User.objects.get(username="zhang.san").password
        assert self.login("zhang.san", "wrong").status_code == 401
        assert User.objects.get(username="zhang.san").password == before

    def test_uppercase_hex_export_is_accepted(self, tenant_a, export_csv):
        call_command("import_legacy_users", str(export_csv), tenant=tenant_a.slug)
        assert self.login("li.si", "another").status_code == 200

    def test_new_passwords_are_bcrypt(self, agent_a):
        assert identify_hasher(agent_a.password).algorithm == "bcrypt_sha256"
