# The Vox image: web (granian), worker and beat all run from it.
FROM python:3.11-slim
# The web worker's threads take turns at config/gate.py, annotators' "next" first.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VOX_VAR_DIR=/var/lib/vox VOX_WEB_NEXT_FIRST=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir -e .
COPY . .
RUN DEBUG=0 SECRET_KEY=only-for-collectstatic python manage.py collectstatic --noinput -v0
RUN useradd --system --home /app vox && mkdir -p /var/lib/vox && chown vox /var/lib/vox
USER vox
EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "3", \
     "--blocking-threads", "32", "--runtime-mode", "st", "--respawn-failed-workers", "config.wsgi:application"]
