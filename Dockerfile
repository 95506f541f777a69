# One image for every service: the gateway by default; docker-compose.yml
# picks the program with `command` (node --enable-source-maps subgraphs/<name>/dist/index.js).
# The image runs compiled JavaScript (npm run build, scripts/build.ts) with
# node alone: tsx, esbuild and the Prisma generator stay in the build stage.

# The manifests of every workspace: npm ci wants the lock file and all of them.
FROM node:20-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/common/package.json packages/common/
COPY packages/contracts/package.json packages/contracts/
COPY packages/devstack/package.json packages/devstack/
COPY subgraphs/auth/package.json subgraphs/auth/
COPY subgraphs/products/package.json subgraphs/products/
COPY subgraphs/orders/package.json subgraphs/orders/
COPY subgraphs/shipments/package.json subgraphs/shipments/
COPY gateway/package.json gateway/
COPY web/package.json web/

# The web app, built with its development dependencies (Vite) in a stage of
# its own: only its static files reach the image, where the gateway serves
# them at / (WEB_DIST_DIR defaults to /app/web/dist).
FROM manifests AS web
RUN npm ci --workspace web --ignore-scripts --no-audit --no-fund
COPY web web
RUN npm run build -w web

# The programs, compiled: every dependency (development ones included), the
# Prisma clients (npm ci's postinstall generates them from the prisma/
# folders), then one JavaScript bundle per program (gateway/dist,
# subgraphs/<name>/dist, scripts/dist) with our workspaces and the generated
# clients compiled in.
FROM manifests AS build
COPY scripts/prisma-generate.mjs scripts/
COPY subgraphs/auth/prisma subgraphs/auth/prisma
COPY subgraphs/products/prisma subgraphs/products/prisma
COPY subgraphs/orders/prisma subgraphs/orders/prisma
COPY subgraphs/shipments/prisma subgraphs/shipments/prisma
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM manifests

# Production dependencies only, in their own layer, so editing source does not
# reinstall them. No install script is needed: the Prisma clients are compiled
# into the bundles. Services refuse to start without their secrets, or with a
# published one, and ignore the development identity headers.
ENV NODE_ENV=production
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# What the bundles read at run time, beside them as in the repository: each
# subgraph's SDL (copied into its dist/) and migrations, the gateway's supergraph.
COPY --from=build /app/gateway/dist gateway/dist
COPY --from=build /app/subgraphs/auth/dist subgraphs/auth/dist
COPY --from=build /app/subgraphs/products/dist subgraphs/products/dist
COPY --from=build /app/subgraphs/orders/dist subgraphs/orders/dist
COPY --from=build /app/subgraphs/shipments/dist subgraphs/shipments/dist
COPY --from=build /app/scripts/dist scripts/dist
COPY subgraphs/auth/prisma/migrations subgraphs/auth/prisma/migrations
COPY subgraphs/products/prisma/migrations subgraphs/products/prisma/migrations
COPY subgraphs/orders/prisma/migrations subgraphs/orders/prisma/migrations
COPY subgraphs/shipments/prisma/migrations subgraphs/shipments/prisma/migrations
COPY schema/supergraph.graphql schema/
# The web app's trusted documents, the same release as web/dist (TRUSTED_DOCUMENTS_MANIFESTS).
COPY web/src/gql/persisted-documents.json web/src/gql/
COPY --from=web /app/web/dist web/dist

# The SMTP sink (docker-compose.yml's `mail`) keeps messages here, in a volume
# that starts with this folder's owner.
RUN mkdir -p /data/mail && chown node:node /data/mail

# The files stay root-owned: the services only read them, and cannot change
# their own code.
USER node

EXPOSE 4000
CMD ["node", "--enable-source-maps", "gateway/dist/index.js"]
