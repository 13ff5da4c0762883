# The peermatch API image: gunicorn serving the Flask app; migrations run before serving.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 peermatch

COPY pyproject.toml README.md alembic.ini gunicorn.conf.py ./
COPY matcher ./matcher
COPY api ./api
COPY seed_data ./seed_data
RUN pip install -e ".[postgres,server]"

USER peermatch
EXPOSE 8000
# docker-compose.yml gives the command per service; this default serves the API.
CMD ["sh", "-c", "peermatch db upgrade && exec gunicorn --workers 2 --bind 0.0.0.0:8000 --access-logfile - 'api.entrypoints.wsgi:app'"]
