# Gateway container image. Build from the repository root:
#   docker build -t gateway .
#   docker run -d --name gateway --stop-timeout 60 -p 2525:2525 -v gateway-spool:/var/spool/gateway \
#     -e Gateway__Smtp__AllowedNetworks__0=10.0.0.0/8 gateway
#   docker exec gateway dotnet /app/gateway.dll queue list     # a tool, in the running container
# /etc/gateway ships the sample appsettings.json, policy.json and certs-sample/ (TEST ONLY keys):
# mount your own over it. See README.md, "Docker".

# ---- build: the same publish as `dotnet publish src/Gateway.Host -c Release -o /app`
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Project files first, so the package restore is cached until a dependency changes.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/Gateway.Core/Gateway.Core.csproj src/Gateway.Core/
COPY src/Gateway.Host/Gateway.Host.csproj src/Gateway.Host/
RUN dotnet restore src/Gateway.Host/Gateway.Host.csproj
COPY src/ src/
RUN dotnet publish src/Gateway.Host -c Release -o /app --no-restore

# ---- runtime: .NET runtime only (Gateway is a console host, no ASP.NET Core)
FROM mcr.microsoft.com/dotnet/runtime:10.0
# LDAP certificate lookups: System.DirectoryServices.Protocols loads OpenLDAP's client library
# (libldap.so.2 / libldap-2.6.so.0 / libldap-2.5.so.0). Its package is libldap2 on newer Debian and
# Ubuntu bases, libldap-2.5-0 on Debian 12.
RUN apt-get update \
 && (apt-get install -y --no-install-recommends libldap2 || apt-get install -y --no-install-recommends libldap-2.5-0) \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid gateway --home-dir /var/spool/gateway --no-create-home --shell /usr/sbin/nologin gateway \
 && mkdir -p /var/spool/gateway /etc/gateway \
 && chown gateway:gateway /var/spool/gateway && chmod 0700 /var/spool/gateway
COPY --from=build /app /app
# Relative paths in appsettings.json (policy.json, certs-sample/...) resolve against the working directory.
WORKDIR /etc/gateway
COPY appsettings.json policy.json ./
COPY certs-sample/ certs-sample/
# Writable state goes to the volume; the configuration folder stays read-only for the service user.
ENV Gateway__Spool__Path=/var/spool/gateway/spool \
    Gateway__Relay__Outbox=/var/spool/gateway/outbox \
    Gateway__Audit__Path=/var/spool/gateway/audit.jsonl \
    Gateway__Certificates__Cache__Path=/var/spool/gateway/certificates.db \
    Gateway__Ca__Path=/var/spool/gateway/ca \
    Gateway__Smtp__Address=0.0.0.0
VOLUME ["/var/spool/gateway", "/etc/gateway"]
EXPOSE 2525
USER gateway
# `docker run IMAGE` runs the service; `docker run IMAGE queue list` (any other command) runs that tool instead.
ENTRYPOINT ["dotnet", "/app/gateway.dll"]
CMD ["run"]
