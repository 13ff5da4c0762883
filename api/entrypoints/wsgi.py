"""The WSGI entry point for gunicorn: `gunicorn 'api.entrypoints.wsgi:app'`."""

from api.http.app import create_app

app = create_app()
