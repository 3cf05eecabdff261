"""The operator console: server-rendered pages in Russian (Jinja2), no front-end build."""
