# Builds the one executable, partner-center, and a small runtime image that carries the
# schema files (for `migrate`) and psql (for the one-shot role set-up in docker-compose).
# The builder's Swift reads every manifest of the package graph (the newest declare
# swift-tools-version 6.2); the runtime image has every shared library the binary needs
# besides the Swift runtime linked in statically: libpq (webhooks go through async-http-client,
# whose TLS is BoringSSL linked in, checking servers against ca-certificates).
# `Scripts/check-docker` checks both, and the compose files, without an engine.
FROM swift:6.2-noble AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product partner-center --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/partner-center" /usr/local/bin/ \
    && cp -r "$(swift build -c release --show-bin-path)/PartnerCenter_PartnerAPI.resources" /usr/local/bin/

FROM ubuntu:noble
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 postgresql-client ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* && useradd --system --create-home partner
COPY --from=build /usr/local/bin/partner-center /usr/local/bin/partner-center
COPY --from=build /usr/local/bin/PartnerCenter_PartnerAPI.resources /usr/local/bin/PartnerCenter_PartnerAPI.resources
COPY Schema /app/Schema
WORKDIR /app
USER partner
EXPOSE 8080
ENTRYPOINT ["partner-center"]
CMD ["serve", "--host", "0.0.0.0"]
