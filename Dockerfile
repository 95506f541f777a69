# One image for every service: the gateway by default; docker-compose.yml
# picks the subgraph with `command` (node --import tsx subgraphs/<name>/src/index.ts).

# The manifests of every workspace: npm ci wants the lock file and all of them.
FROM node:20-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/common/package.json packages/common/
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

FROM manifests

# Dependencies first, in their own layer, so editing source does not reinstall
# them. The postinstall step generates the Prisma clients, so it needs the
# generator script and every subgraph's prisma/ folder now.
COPY scripts/prisma-generate.mjs scripts/
COPY subgraphs/auth/prisma subgraphs/auth/prisma
COPY subgraphs/products/prisma subgraphs/products/prisma
COPY subgraphs/orders/prisma subgraphs/orders/prisma
COPY subgraphs/shipments/prisma subgraphs/shipments/prisma

# Production: npm ci leaves out devDependencies (tsx, which runs the
# TypeScript, is a regular dependency), and services refuse to start without
# INTERNAL_AUTH_SECRET and ignore the development identity headers.
ENV NODE_ENV=production
RUN npm ci && npm cache clean --force

COPY . .
COPY --from=web /app/web/dist web/dist

# The SMTP sink (docker-compose.yml's `mail`) keeps messages here, in a volume
# that starts with this folder's owner.
RUN mkdir -p /data/mail && chown node:node /data/mail

# The files stay root-owned: the services only read them, and cannot change
# their own code. tsx keeps its compile cache in /tmp.
USER node

EXPOSE 4000
CMD ["node", "--import", "tsx", "gateway/src/index.ts"]
