"""GitHub credentials: stored encrypted, one active per team, revoked by id (a failure revokes only the
credential the failed run used). A credential is a token, or a GitHub App installation (App id, installation
id and the App's private key, encrypted); installation tokens are never stored."""

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
    def _insert_credential(self, team_id: int, *, verified: bool, **values: Any) -> int:
        """Insert the team's new credential; older ones are kept, marked revoked ("replaced")."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                credentials.update()
                .where(credentials.c.team_id == team_id, credentials.c.is_revoked.is_(False))
                .values(is_revoked=True, revoked_at=now, revoked_reason="replaced")
            )
            res = conn.execute(credentials.insert().values(
                team_id=team_id, is_revoked=False, created_at=now, verified_at=now if verified else None, **values))
            return int(res.inserted_primary_key[0])

    def store_credential(self, team_id: int, token: Secret, *, verified: bool) -> int:
        """Store a new token (encrypted). Older credentials of the team are kept, marked revoked."""
        if not token.reveal().strip():
            raise InvalidInput("token is empty")
        return self._insert_credential(team_id, verified=verified, kind="token",
                                       token_encrypted=self.box.encrypt(token))

    def store_app_credential(self, team_id: int, *, app_id: int, installation_id: int, private_key: Secret,
                             verified: bool) -> int:
        """Store a GitHub App credential: the App id, its installation on the team's org and the App's private
        key (encrypted). Older credentials of the team are kept, marked revoked."""
        if int(app_id) <= 0 or int(installation_id) <= 0:
            raise InvalidInput("GitHub App id and installation id must be positive integers")
        if not private_key.reveal().strip():
            raise InvalidInput("the GitHub App private key is empty")
        return self._insert_credential(team_id, verified=verified, kind="github_app", app_id=int(app_id),
                                       installation_id=int(installation_id),
                                       private_key_encrypted=self.box.encrypt(private_key))

    def _active_credential_row(self, team_id: int) -> Any:
        c = credentials
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(c.c.id, c.c.created_at, c.c.kind, c.c.token_encrypted, c.c.app_id, c.c.installation_id,
                          c.c.private_key_encrypted)
                .where(c.c.team_id == team_id, c.c.is_revoked.is_(False))
                .order_by(c.c.id.desc())
                .limit(1)
            ).first()

    def active_credential(self, team_id: int) -> ActiveCredential | None:
        """The team's current credential, decrypted; None when it has none. Raises
        ``CredentialUndecryptable`` (naming COPILOT_FLOW_SECRET_KEY) when the key cannot decrypt it."""
        row = self._active_credential_row(team_id)
        if row is None:
            return None
        created = as_utc(row.created_at)
        if row.kind == "github_app":
            return ActiveCredential(id=int(row.id), created_at=created, kind="github_app",  # type: ignore[arg-type]
                                    app_id=int(row.app_id), installation_id=int(row.installation_id),
                                    private_key=self.box.decrypt(row.private_key_encrypted))
        return ActiveCredential(id=int(row.id), created_at=created,  # type: ignore[arg-type]
                                token=self.box.decrypt(row.token_encrypted))

    def active_credential_meta(self, team_id: int) -> tuple[int, datetime] | None:
        """(id, connected at) of the team's current credential, without decrypting it."""
        row = self._active_credential_row(team_id)
        return None if row is None else (int(row.id), as_utc(row.created_at))  # type: ignore[return-value]

    def active_credential_summary(self, team_id: int) -> str | None:
        """What the team connects with, without decrypting anything: "token" or "GitHub App <id> (installation
        <id>)", and since when; None when it has no active credential."""
        row = self._active_credential_row(team_id)
        if row is None:
            return None
        what = f"GitHub App {row.app_id} (installation {row.installation_id})" if row.kind == "github_app" else "token"
        return f"{what}, stored {as_utc(row.created_at):%Y-%m-%d %H:%M UTC}"

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

