# syntax=docker/dockerfile:1
#
# Quantforge image: one jar, both roles.
#   api + in-process workers (default):  docker run -p 8080:8080 -v qf-data:/data quantforge
#   remote worker (no database, no HTTP): docker run -e QF_ROLES=worker -e QF_SERVER_URL=http://api:8080 quantforge
#   GPU worker (TensorRT): docker build --target gpu -t quantforge-gpu .
#                          docker run --gpus all quantforge-gpu --qf.roles=worker --qf.server-url=http://api:8080
# See docs/DEPLOY.md.

# NVIDIA's TensorRT container for the gpu target (TensorRT 10.x; trtexec in /opt/tensorrt/bin). Pick the
# release matching the GPU nodes' driver: see NVIDIA's TensorRT container release notes.
ARG TENSORRT_IMAGE=nvcr.io/nvidia/tensorrt:25.01-py3

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

############################ gpu (docker build --target gpu) ############################
# The same jar as a remote worker on NVIDIA's TensorRT container, for compile_tensorrt jobs: trtexec is on
# PATH, the CUDA libraries come with the base image, the GPU comes from the NVIDIA container runtime
# (docker --gpus, an nvidia.com/gpu limit). Built and run nowhere in this repository's CI (no GPU there).
FROM ${TENSORRT_IMAGE} AS gpu

RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 quantforge \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/quantforge \
            --shell /usr/sbin/nologin quantforge \
 && mkdir -p /data /app \
 && chown 10001:10001 /data

COPY --from=build --chown=0:0 /tmp/quantforge.jar /app/quantforge.jar

# /opt/tensorrt/bin holds trtexec in NVIDIA's container (/usr/src/tensorrt links to /opt/tensorrt);
# QF_TRTEXEC=/path/to/trtexec overrides the PATH lookup.
ENV QF_DATA_DIR=/data \
    QF_ROLES=worker \
    PATH=/opt/tensorrt/bin:/usr/src/tensorrt/bin:${PATH} \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError"

USER 10001:10001
WORKDIR /app
VOLUME ["/data"]

# A remote worker serves no HTTP, so there is nothing to probe; it exits (and is restarted) when the api is gone.
HEALTHCHECK NONE

# QF_ROLES=worker above; arguments go to the application (--qf.server-url=http://api:8080).
ENTRYPOINT ["java", "-jar", "/app/quantforge.jar"]

############################ runtime (the default target) ############################
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
