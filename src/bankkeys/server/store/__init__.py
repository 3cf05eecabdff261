"""The server's own tables (accounts, sign-in sessions, scheduler leases) and their migrations.

They sit in the bank's database beside its tables but are migrated by their own Alembic history
(version table ``bankkeys_server_version``): sign-in is the server's business, not the bank core's.
"""
