"""Users, groups, project roles and credentials (passwords, Cloud API tokens, Server PATs)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from jirabridge.emulator.model._base import SiteBase
from jirabridge.emulator.model._errors import Conflict, NotFound, ValidationFailed
from jirabridge.emulator.model._records import Flavour, Group, User

__all__ = ["DirectoryMixin"]


class DirectoryMixin(SiteBase):
    def create_user(
        self,
        display_name: str,
        *,
        name: str | None = None,
        email: str | None = None,
        password: str | None = None,
        api_token: str | None = None,
        active: bool = True,
        email_visible: bool = True,
        time_zone: str = "UTC",
        account_type: str = "atlassian",
        groups: Iterable[str] = (),
        key: str | None = None,
    ) -> User:
        """Add a user. Server: ``name`` is required (the login) and the key is
        ``JIRAUSER<n>`` unless ``key`` is given (legacy keys equal the name). Cloud: the key
        is a generated accountId (or ``key``); ``email`` is the login."""
        if self.flavour is Flavour.SERVER:
            if not name:
                raise ValidationFailed(errors={"username": "You must specify a username."})
            if name.lower() in self.users_by_name:
                raise ValidationFailed(
                    errors={"username": "A user with that username already exists."}
                )
            user_key = key or f"JIRAUSER{self.ids.next('user')}"
        else:
            if email and email.lower() in self.users_by_name:
                raise ValidationFailed(
                    errors={"email": "A user with that email address already exists."}
                )
            user_key = key or self.ids.account_id()
            name = None
        if user_key in self.users:
            raise Conflict(f"A user with the key '{user_key}' already exists.")
        user = User(
            key=user_key,
            display_name=display_name,
            name=name,
            account_id=user_key if self.flavour is Flavour.CLOUD else None,
            email=email,
            email_visible=email_visible,
            active=active,
            time_zone=time_zone,
            account_type=account_type,
            password=password,
            created=self.now(),
        )
        if api_token:
            user.api_tokens[api_token] = "default"
        self.users[user_key] = user
        if name:
            self.users_by_name[name.lower()] = user_key
        if email:
            self.users_by_name.setdefault(email.lower(), user_key)
        for g in groups:
            self.add_to_group(g, user_key)
        return user

    def set_user_active(self, user_key: str, active: bool) -> None:
        self.get_user(user_key).active = active

    def update_user(
        self,
        user_key: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        email_visible: bool | None = None,
        time_zone: str | None = None,
        password: str | None = None,
        name: str | None = None,
    ) -> User:
        """Change a user's profile. The key never changes; on Server ``name`` renames the
        login (a legacy key stays the old name, as in Jira); the login index follows."""
        user = self.get_user(user_key)
        if name is not None and self.flavour is Flavour.SERVER and name != user.name:
            if not name or name.lower() in self.users_by_name:
                raise ValidationFailed(
                    errors={"username": "A user with that username already exists."}
                )
            if user.name:
                self.users_by_name.pop(user.name.lower(), None)
            self.users_by_name[name.lower()] = user.key
            user.name = name
        if email is not None and email.lower() != (user.email or "").lower():
            owner = self.users_by_name.get(email.lower())
            if owner is not None and owner != user.key:
                raise ValidationFailed(
                    errors={"email": "A user with that email address already exists."}
                )
            if user.email and self.users_by_name.get(user.email.lower()) == user.key:
                del self.users_by_name[user.email.lower()]
            self.users_by_name[email.lower()] = user.key
            user.email = email
        if display_name is not None:
            if not display_name.strip():
                raise ValidationFailed(errors={"displayName": "You must specify a full name."})
            user.display_name = display_name
        if email_visible is not None:
            user.email_visible = email_visible
        if time_zone is not None:
            user.time_zone = time_zone
        if password is not None:
            user.password = password
        return user

    def can_browse(self, user_key: str, project_id: int) -> bool:
        """Whether the user may browse the project: any active user may (the emulator's
        permission scheme grants Browse Projects to all logged-in users) unless a test took
        it away (``deny_permissions``)."""
        user = self.find_user(user_key)
        project = self.projects.get(project_id)
        if user is None or not user.active or project is None:
            return False
        return "BROWSE_PROJECTS" not in project.denied.get(user.key, ())

    def create_group(self, name: str) -> Group:
        if name in self.groups:
            raise ValidationFailed("A group or user with this name already exists.")
        group = Group(
            name=name, group_id=self.ids.uuid() if self.flavour is Flavour.CLOUD else name
        )
        self.groups[name] = group
        return group

    def get_group(self, name: str) -> Group:
        group = self.groups.get(name)
        if group is None:
            for g in self.groups.values():
                if g.group_id == name:
                    return g
            raise NotFound("Specified group does not exist.")
        return group

    def add_to_group(self, group_name: str, user_key: str) -> None:
        group = self.groups.get(group_name) or self.create_group(group_name)
        group.members.add(self.get_user(user_key).key)

    def remove_from_group(self, group_name: str, user_key: str) -> None:
        self.get_group(group_name).members.discard(user_key)

    def user_groups(self, user_key: str) -> list[str]:
        return sorted(g.name for g in self.groups.values() if user_key in g.members)

    def add_role_member(self, project_ref: int | str, role: str, member: str) -> None:
        """Add a user key (or ``group:<name>``) to a project role."""
        project = self.get_project(project_ref)
        if not member.startswith("group:"):
            member = self.get_user(member).key
        project.roles.setdefault(role, set()).add(member)

    # -- credentials ------------------------------------------------------------------------

    def check_password(self, login: str, password: str) -> User | None:
        """The active user whose username (Server) or email (Cloud) and password match."""
        user = self.find_user(login)
        if user is None or not user.active or user.password is None:
            return None
        return user if hmac.compare_digest(user.password, password) else None

    def check_api_token(self, email: str, token: str) -> User | None:
        """Cloud basic auth: the active user with this email and API token."""
        user = self.find_user(email)
        if user is None or not user.active:
            return None
        for known in user.api_tokens:
            if hmac.compare_digest(known, token):
                return user
        return None

    def create_api_token(self, user_key: str, label: str = "token") -> str:
        token = self.ids.token(24)
        self.get_user(user_key).api_tokens[token] = label
        return token

    def revoke_api_token(self, user_key: str, token: str) -> None:
        self.get_user(user_key).api_tokens.pop(token, None)

    def create_personal_token(self, user_key: str, name: str = "token") -> str:
        """A Server personal access token (use as ``Authorization: Bearer``)."""
        token = f"{self.ids.next('pat'):03d}" + self.ids.token(40)
        self.get_user(user_key).personal_tokens[token] = name
        return token

    def user_for_personal_token(self, token: str) -> User | None:
        for user in self.users.values():
            if user.active and any(hmac.compare_digest(t, token) for t in user.personal_tokens):
                return user
        return None

    def revoke_personal_token(self, user_key: str, token: str) -> None:
        self.get_user(user_key).personal_tokens.pop(token, None)
