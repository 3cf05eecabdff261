"""The local web UI of the client's workstation: server-rendered pages on 127.0.0.1, in Russian.

Only the browser that opened the launch link (it carries a per-launch secret) can use it; every
form carries a CSRF token and the Host/Origin headers must be the UI's own, so other local web
pages cannot drive it.
"""
