import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from targets.crypto import SecretDecryptionError, decrypt_secret, encrypt_secret
from tests.factories import TargetDatabaseFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_target_password_is_encrypted_at_rest():
    target = TargetDatabaseFactory(password="s3cret-Passw0rd!")
    with connection.cursor() as cur:
        cur.execute("SELECT password_encrypted FROM migrations_app_targetdatabase WHERE id = %s", [target.pk])
        raw = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM migrations_app_targetdatabase WHERE row_to_json(migrations_app_targetdatabase)::text LIKE %s",
                    ["%s3cret-Passw0rd!%"])
        plaintext_rows = cur.fetchone()[0]
    assert raw and "s3cret" not in raw
    assert plaintext_rows == 0
    target.refresh_from_db()
    assert target.password == "s3cret-Passw0rd!"


def test_old_secrets_stay_readable_after_a_new_key_is_put_first(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = encrypt_secret("hunter2", keys=[old_key])
    assert decrypt_secret(token, keys=[new_key, old_key]) == "hunter2"
    fresh = encrypt_secret("hunter3", keys=[new_key, old_key])
    assert decrypt_secret(fresh, keys=[new_key]) == "hunter3"


def test_a_wrong_key_raises_instead_of_returning_ciphertext():
    token = encrypt_secret("hunter2", keys=[Fernet.generate_key().decode()])
    with pytest.raises(SecretDecryptionError) as info:
        decrypt_secret(token, keys=[Fernet.generate_key().decode()])
    assert token not in str(info.value)


@pytest.mark.django_db
def test_model_uses_the_configured_keys_for_rotation(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FERNET_KEYS = [old_key]
    target = TargetDatabaseFactory(password="rotate-me")
    settings.FERNET_KEYS = [new_key, old_key]
    target.refresh_from_db()
    assert target.password == "rotate-me"
    settings.FERNET_KEYS = [new_key]
    with pytest.raises(SecretDecryptionError):
        target.refresh_from_db()
        _ = target.password


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAFLOW_")}
    env.update({
        "DATAFLOW_DEBUG": "false",
        "DATAFLOW_SECRET_KEY": "x" * 20 + "Yz9-" + "q" * 40 + "w8Kd",
        "DATAFLOW_FERNET_KEYS": Fernet.generate_key().decode(),
        "DATAFLOW_ALLOWED_HOSTS": "dataflow.example.com",
        "DATAFLOW_STATE_DIR": str(tmp_path),
    })
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAFLOW_")}
    env.update({"DATAFLOW_DEBUG": "false", "DATAFLOW_STATE_DIR": str(tmp_path)})
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "DATAFLOW_SECRET_KEY" in result.stderr


def test_secret_can_be_read_from_a_file(tmp_path, monkeypatch):
    from dataflow_site.env import env_secret

    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.delenv("SOME_SECRET", raising=False)
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret_file))
    assert env_secret("SOME_SECRET") == "from-a-file"
