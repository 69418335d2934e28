# The exit137 workers (ingest, correlate, setup) as one image. journalctl comes from systemd's
# package so the ingest worker can read a node's journal mounted read-only; auditctl from auditd's
# so that an init container can load the rule pack (deploy/kubernetes/components/audit-rules).
FROM node:20-bookworm-slim
RUN apt-get update -q && apt-get install -y -q --no-install-recommends systemd auditd && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/exit137
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund
COPY bin bin
COPY cli cli
COPY ingest ingest
COPY correlate correlate
COPY sinks sinks
COPY rules rules
COPY tsconfig.json ./
ENTRYPOINT ["node", "/opt/exit137/bin/exit137.js"]
