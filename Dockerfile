# syntax=docker/dockerfile:1
#
# Quantforge image: one jar, both roles.
#   api + in-process workers (default):  docker run -p 8080:8080 -v qf-data:/data quantforge
#   remote worker (no database, no HTTP): docker run -e QF_ROLES=worker -e QF_SERVER_URL=http://api:8080 quantforge
# See docs/DEPLOY.md.

############################ build ############################
FROM eclipse-temurin:17-jdk AS build

# The Maven wrapper (distributionType=only-script) downloads Maven itself and needs curl or
# wget; newer Temurin images no longer ship curl, so install it explicitly.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
COPY src/ src/

# Extra Maven arguments, e.g. --build-arg MVN_ARGS="-Pgpu" once a GPU profile exists.
ARG MVN_ARGS=""
# The cache mount keeps ~/.m2 (Maven itself + dependencies) between builds (BuildKit).
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -DskipTests ${MVN_ARGS} package \
 && cp target/quantforge-*.jar /tmp/quantforge.jar

############################ runtime ############################
FROM eclipse-temurin:17-jre

# curl: for HEALTHCHECK and the Helm worker init container (not in newer Temurin images).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 quantforge \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/quantforge \
            --shell /usr/sbin/nologin quantforge \
 && mkdir -p /data /app \
 && chown 10001:10001 /data

COPY --from=build --chown=0:0 /tmp/quantforge.jar /app/quantforge.jar

# Heap at 60% of the container's memory limit: ONNX Runtime (and the embedded PostgreSQL
# when no QF_DB_URL is given) allocate native memory outside the heap.
ENV QF_DATA_DIR=/data \
    QF_PORT=8080 \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError"

# The embedded PostgreSQL refuses to run as root; uid 10001 works (compose/Helm use an
# external PostgreSQL anyway).
USER 10001:10001
WORKDIR /app
VOLUME ["/data"]
EXPOSE 8080

# Only a process with the api role serves HTTP. A remote worker (QF_ROLES without "api")
# has no web server, so the check passes for it; compose and Helm disable it there anyway.
# (Roles given as --qf.roles=... arguments instead of QF_ROLES are not seen here.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD case ",$(echo "${QF_ROLES:-api,worker}" | tr -d ' ')," in \
        *,api,*) curl -fsS -o /dev/null "http://127.0.0.1:${QF_PORT:-8080}/actuator/health/liveness" ;; \
        *) exit 0 ;; \
      esac

ENTRYPOINT ["java", "-jar", "/app/quantforge.jar"]
