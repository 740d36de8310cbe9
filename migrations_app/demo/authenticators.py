"""Demo users come enrolled in step-up (development only): one authenticator secret for the demo
users enrolled in a run, printed and appended to .dataflow/demo-credentials.txt, so a developer
adds it to any TOTP app (or `oathtool --totp -b SECRET`) and signs off the demo plans."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from migrations_app.demo import DEMO_USERS


def ensure_demo_authenticators(credentials_file: Path, log=print) -> list[str]:
    from django.contrib.auth.models import User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    key = secrets.token_bytes(20)
    enrolled = []
    for user in User.objects.filter(username__in=[name for name, _ in DEMO_USERS]).order_by("username"):
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            continue
        TOTPDevice.objects.create(user=user, name="demo authenticator", key=key.hex(), confirmed=True)
        enrolled.append(user.username)
    if enrolled:
        secret = base64.b32encode(key).decode().rstrip("=")
        line = (f"authenticator secret of {', '.join(enrolled)}: {secret}  "
                f"(TOTP, 6 digits, 30 s; e.g. oathtool --totp -b {secret})")
        credentials_file.parent.mkdir(parents=True, exist_ok=True)
        with credentials_file.open("a") as handle:
            handle.write(line + "\n")
        credentials_file.chmod(0o600)
        log("Demo users enrolled in step-up (development only):")
        log("  " + line)
    return enrolled
