# syntax=docker/dockerfile:1
#
# Shepherd's worker image. Two stages:
#   build   - all dependencies, TypeScript compiled to dist/ (`npm run build`) and the workflow bundle built once
#             (`npm run build:bundle` -> dist/workflow-bundle.js), so workers start without bundling;
#   runtime - production dependencies only, the compiled code and the bundle, run as the unprivileged `node` user.
# The base is Node 24 LTS (supported until April 2028; Node 20 ended in April 2026, Node 22 ends in April 2027), on
# Debian (glibc): the Temporal SDK's native core is built for glibc and does not load on Alpine (musl).
# Install scripts stay off (`--ignore-scripts`), as package.json's "allowScripts" has them off on a developer's
# machine: nothing Shepherd uses needs one.

ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY scripts/build.mjs scripts/build-workflow-bundle.ts ./scripts/
RUN npm run build \
 && npm run build:bundle \
 && node bin/shepherd.js --help > /dev/null

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs
# `shepherd doctor` checks the cluster permissions the waits need against the Roles shipped here.
COPY deploy/kubernetes/rbac ./deploy/kubernetes/rbac
# Writable places for the `node` user (uid 1000): its home for ~/.kube, and /app/reports for report files.
RUN mkdir -p /app/reports /home/node/.kube && chown node:node /app/reports /home/node/.kube
USER node
# A private CA (GitLab, Jenkins or a webhook behind an internal certificate authority): mount its PEM bundle and set
# NODE_EXTRA_CA_CERTS to its path, e.g. `-v ./ca.pem:/etc/shepherd/ca.pem:ro -e NODE_EXTRA_CA_CERTS=/etc/shepherd/ca.pem`
# (in Kubernetes: a ConfigMap volume and the variable in the container's env). Node reads it once at start and trusts
# it in addition to its own roots, for every HTTPS call Shepherd makes from JavaScript. Two connections do not use it:
# Temporal's (the SDK's native core: TEMPORAL_TLS_CA_PATH) and the cluster's (the kubeconfig's certificate-authority).
# Healthy while this container's worker polls its task queue (see deploy/healthcheck.mjs).
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 CMD ["node", "deploy/healthcheck.mjs"]
ENTRYPOINT ["node", "bin/shepherd.js"]
CMD ["worker"]
