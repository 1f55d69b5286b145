"""The control surface of a running bot: REST API, dashboard and Telegram commands.

`desk` holds what they read and do (the ledger's views, the operator's actions), `auth` the
bearer tokens and their scopes, `app` the FastAPI routes and `server` runs them inside the
bot's event loop.
"""
