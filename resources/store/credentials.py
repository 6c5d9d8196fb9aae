"""GitHub credentials: stored encrypted, one active per team, revoked by id (a failure revokes only the
credential the failed run used)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources.secrets import CredentialUndecryptable, Secret
from resources.store.base import ActiveCredential, StoreBase, as_utc, utcnow
from resources.tables import credentials
from resources.validation import InvalidInput


class CredentialsMixin(StoreBase):
    def store_credential(self, team_id: int, token: Secret, *, verified: bool) -> int:
        """Store a new token (encrypted). Older credentials of the team are kept, marked revoked."""
        if not token.reveal().strip():
            raise InvalidInput("token is empty")
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                credentials.update()
                .where(credentials.c.team_id == team_id, credentials.c.is_revoked.is_(False))
                .values(is_revoked=True, revoked_at=now, revoked_reason="replaced")
            )
            res = conn.execute(
                credentials.insert().values(
                    team_id=team_id, token_encrypted=self.box.encrypt(token), is_revoked=False,
                    created_at=now, verified_at=now if verified else None,
                )
            )
            return int(res.inserted_primary_key[0])

    def _active_credential_row(self, team_id: int) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(credentials.c.id, credentials.c.created_at, credentials.c.token_encrypted)
                .where(credentials.c.team_id == team_id, credentials.c.is_revoked.is_(False))
                .order_by(credentials.c.id.desc())
                .limit(1)
            ).first()

    def active_credential(self, team_id: int) -> ActiveCredential | None:
        """The team's current credential, decrypted; None when it has none. Raises
        ``CredentialUndecryptable`` (naming COPILOT_FLOW_SECRET_KEY) when the key cannot decrypt it."""
        row = self._active_credential_row(team_id)
        if row is None:
            return None
        return ActiveCredential(id=int(row.id), created_at=as_utc(row.created_at),  # type: ignore[arg-type]
                                token=self.box.decrypt(row.token_encrypted))

    def active_credential_meta(self, team_id: int) -> tuple[int, datetime] | None:
        """(id, connected at) of the team's current credential, without decrypting it."""
        row = self._active_credential_row(team_id)
        return None if row is None else (int(row.id), as_utc(row.created_at))  # type: ignore[return-value]

    def credential_problem(self, team_id: int) -> str | None:
        """Why the team's credential cannot be used for a sync (``credential_missing`` /
        ``credential_undecryptable``), or None when it can."""
        try:
            return None if self.active_credential(team_id) is not None else "credential_missing"
        except CredentialUndecryptable:
            return "credential_undecryptable"

    def revoke_credentials(self, team_id: int, reason: str, *, credential_id: int | None = None,
                           conn: Connection | None = None) -> int:
        """Revoke the team's active credentials, or only ``credential_id`` (the one a failed run used)."""
        stmt = (
            credentials.update()
            .where(credentials.c.team_id == team_id, credentials.c.is_revoked.is_(False))
            .values(is_revoked=True, revoked_at=utcnow(), revoked_reason=reason)
        )
        if credential_id is not None:
            stmt = stmt.where(credentials.c.id == credential_id)
        if conn is not None:
            return conn.execute(stmt).rowcount
        with self.engine.begin() as c:
            return c.execute(stmt).rowcount

