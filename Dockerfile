# The broker as an image: `docker compose up` runs it on MongoDB (docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ngsild ngsild
COPY datamodels datamodels
RUN pip install --no-cache-dir . && useradd --system broker
USER broker
EXPOSE 1026
# Every option is also an NGSILD_<NAME> variable, e.g. NGSILD_STORE=mongodb://mongo:27017/ngsild
CMD ["python", "-m", "ngsild", "serve", "--host", "0.0.0.0", "--port", "1026"]
