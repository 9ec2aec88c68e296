# flowscope's container image: one image for the collector, relay, ingester and API
# (`flowscope manifests` runs it with `collector`, `relay` or `api` as arguments).
#
# Build stage: the kernel toolchain builds the perf-ring addon and the BPF objects (CO-RE, so they
# load on other kernels with BTF; vmlinux.h comes from the build host's /sys/kernel/btf/vmlinux,
# and without it the image still runs everything but the cilium and kernel sources), then the
# TypeScript build, then development dependencies are pruned.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make gcc g++ pkg-config python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# node-gyp builds the addon against the image's own Node headers instead of downloading them.
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json binding.gyp tsconfig.json ./
COPY scripts/ scripts/
COPY collector/bpf/ collector/bpf/
COPY collector/perf/native/ collector/perf/native/
# Dependencies without the lifecycle scripts (the sources are not copied yet), then the addon and
# BPF objects; a failed kernel build is recorded in build/kernel-unavailable.txt, not fatal.
RUN npm ci --ignore-scripts && npm run build:kernel
COPY bin/ bin/
COPY proto/ proto/
COPY common/ common/
COPY schema/ schema/
COPY filters/ filters/
COPY observer/ observer/
COPY collector/ collector/
COPY storage/ storage/
COPY relay/ relay/
COPY api/ api/
COPY cmd/ cmd/
COPY dashboards/ dashboards/
RUN npm run build && npm prune --omit=dev --ignore-scripts

# Runtime stage: Node and the shared libraries the addon links (libbpf, libelf, zlib), no compilers.
FROM node:${NODE_VERSION}-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 libelf1 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/flowscope
COPY --from=build /src/package.json /src/binding.gyp ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/build/ build/
COPY --from=build /src/dist/ dist/
COPY --from=build /src/bin/ bin/
# .proto files are loaded at run time; dashboards and rules feed `flowscope manifests`.
COPY --from=build /src/proto/ proto/
COPY --from=build /src/dashboards/grafana/ dashboards/grafana/
COPY --from=build /src/dashboards/alerts/ dashboards/alerts/
# The Node image's unprivileged user (uid 1000), which the relay and API pods run as; the collector
# pod runs as uid 0 with only the capabilities its BPF reader needs (see `flowscope manifests`).
USER 1000:1000
ENV NODE_ENV=production
ENTRYPOINT ["node", "/opt/flowscope/bin/flowscope.js"]
CMD ["--help"]
