"""Settings for the notification service. Credentials come from the environment."""

from __future__ import annotations

import os

SMTP_HOST = os.environ.get("SMTP_HOST", "smtp.internal.example")
SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
SMTP_USER = os.environ["SMTP_USER"]
SMTP_PASSWORD = os.environ["SMTP_PASSWORD"]
SENDER = "Acme Notifications <noreply@example.com>"
RETRY_LIMIT = 3
