"""The authorised JSON API (HTTP API routes under /api, behind the JWT authorizer).

One powertools ``Router`` per area (``scores``, ``cases``); ``functions/api/app.py`` includes them.
"""
