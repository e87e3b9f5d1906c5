"""Staff accounts and sessions: argon2 password hashes, database-backed sessions behind an
HttpOnly cookie, a CSRF token bound to the session, and a login slow-down that every api
worker agrees on (docs/staff.md)."""
