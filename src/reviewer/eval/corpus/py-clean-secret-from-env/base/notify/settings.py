"""Settings for the notification service."""

from __future__ import annotations

SMTP_HOST = "smtp.internal.example"
SMTP_PORT = 587
SMTP_USER = "notify"
SMTP_PASSWORD = "changeme-local-only"
SENDER = "Acme Notifications <noreply@example.com>"
RETRY_LIMIT = 3
