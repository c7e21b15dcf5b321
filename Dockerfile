# Build stage: compile TypeScript and the call desk page.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
COPY web ./web
RUN npm run build && npm prune --omit=dev

# Runtime stage: only what runs, as the unprivileged `node` user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY package.json ./
# The code stays root-owned and read-only to the service; ./data is the one place it writes
# (AUDIT_DEAD_LETTER_FILE). A volume mounted there starts with this ownership.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
# Ready = Postgres answers, the audit backlog is within bounds and the service is not draining.
# The slim image has no curl: Node's own fetch asks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
