# syntax=docker/dockerfile:1
# The reference server with its web console, from this workspace:
#   docker build -t vcluster-api-server .
#   docker run -p 8080:8080 -v vcluster-data:/data vcluster-api-server --auth-tokens /data/tokens.yaml
# The versions match scripts/toolchain.json and package.json (the tests check it).
ARG NODE_VERSION=24.22.3
ARG PNPM_VERSION=10.34.8

FROM node:${NODE_VERSION}-trixie-slim AS build
ARG PNPM_VERSION
WORKDIR /src
RUN npm install --global --ignore-scripts "pnpm@${PNPM_VERSION}"
COPY . .
# Build the server, its workspace dependencies and the console; then gather the server with its
# production dependencies only (no compilers, no tests) into /out/server.
RUN pnpm install --frozen-lockfile \
  && pnpm turbo run build --filter=@open-vcluster/server... --filter=@open-vcluster/console... \
  && pnpm --filter @open-vcluster/server deploy --prod --legacy /out/server \
  && cp -R packages/console/dist /out/console

FROM node:${NODE_VERSION}-trixie-slim
ENV NODE_ENV=production \
    VCLUSTER_API_HOST=0.0.0.0 \
    VCLUSTER_API_PORT=8080 \
    VCLUSTER_API_STORE=sqlite:/data/vcluster.db \
    VCLUSTER_API_CONSOLE_DIR=/app/console
WORKDIR /app
COPY --from=build /out/server /app
COPY --from=build /out/console /app/console
# The store's volume belongs to the unprivileged user the server runs as (the image's "node").
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/vcluster-api-server.js"]
