# Pinned by hand last year; the tags have moved since.
FROM node:20-alpine@sha256:1111111111111111111111111111111111111111111111111111111111111111 AS deps
WORKDIR /app
COPY package*.json ./
RUN npm ci

# No tag: follows latest.
FROM alpine AS runtime
# Already digest-only: nothing to follow.
COPY --from=busybox@sha256:2222222222222222222222222222222222222222222222222222222222222222 /bin/busybox /bin/busybox
COPY --from=localhost:5000/team/base-assets:2024.06 /assets /assets
COPY --from=deps /app/node_modules ./node_modules
FROM "python:3.12-slim"
FROM registry.example.com:8443/mirror/unknown-image:1.0
