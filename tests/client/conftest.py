from client_support import bank, cli, remote_bank  # noqa: F401  (fixtures by name)
