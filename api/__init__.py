"""peermatch, the HTTP service around the `matcher`: see ARCHITECTURE.md for its layers.

`api.http.app.create_app` builds the Flask app; `api.entrypoints` holds what starts it
(the `peermatch` command, the WSGI entry point, the RQ worker and scheduler).
"""
