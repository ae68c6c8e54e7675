# The one image: every Deployment runs `hitl <subcommand>` from it.
# Build: docker build -t hitl-gates:dev .

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/
COPY app app
RUN npm run build

FROM node:24-slim AS runtime-packages
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY scripts/runtime-packages.mjs scripts/
RUN node scripts/runtime-packages.mjs /runtime

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /opt/hitl
# The bundle carries the code and every other dependency; node_modules holds only the two
# packages that load files of their own at run time (scripts/runtime-packages.mjs).
COPY --from=runtime-packages /runtime/node_modules node_modules
COPY --from=build /src/dist/hitl.mjs /src/dist/hitl.mjs.map dist/
COPY --from=build /src/dist/assets dist/assets
USER node
ENTRYPOINT ["node", "dist/hitl.mjs"]
CMD ["--help"]
