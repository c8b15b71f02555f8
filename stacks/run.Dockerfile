# The Toolforge run image: what every tool's container starts from.
# Built by `packaging stack`, which passes every ARG below from stack.toml.
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE}

ARG STACK_ID
ARG DISTRO_NAME
ARG DISTRO_VERSION
ARG DESCRIPTION
ARG HOMEPAGE
ARG MAINTAINER
ARG RELEASED
ARG INPUTS_DIGEST
ARG RUN_USER
ARG RUN_UID
ARG RUN_GID

# Docker-imported bases (debootstrap) carry no environment at all.
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    LC_ALL=C.UTF-8

COPY slim.dpkg.cfg /etc/dpkg/dpkg.cfg.d/toolforge-slim
# Extra certificate authorities (sites behind a TLS-inspecting proxy); empty by default.
COPY ca-certificates/ /usr/local/share/ca-certificates/toolforge/
COPY install-packages packages/run.txt /usr/local/lib/toolforge-stack/
# The same authorities for Java: Debian's JDKs read /etc/ssl/certs/java/cacerts, which Debian's
# ca-certificates-java would make by running Java. OpenSSL writes it instead (-jdktrust marks
# each certificate as trusted for the JDK; unencrypted, so it needs no password; OpenSSL makes
# it readable by root only, and every uid needs it).
RUN /usr/local/lib/toolforge-stack/install-packages /usr/local/lib/toolforge-stack/run.txt \
 && sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen && locale-gen \
 && update-ca-certificates \
 && mkdir -p /etc/ssl/certs/java \
 && openssl pkcs12 -export -nokeys -in /etc/ssl/certs/ca-certificates.crt -jdktrust anyExtendedKeyUsage \
            -certpbe NONE -nomac -passout pass: -out /etc/ssl/certs/java/cacerts \
 && chmod 644 /etc/ssl/certs/java/cacerts \
 && sed -ri 's/^(passwd|group):.*/\1: files sss/' /etc/nsswitch.conf \
 && grep -q '^passwd: files sss$' /etc/nsswitch.conf && grep -q '^group: files sss$' /etc/nsswitch.conf \
 && groupadd --gid "${RUN_GID}" toolforge \
 && useradd --uid "${RUN_UID}" --gid "${RUN_GID}" --home-dir /home/${RUN_USER} --create-home --shell /bin/bash "${RUN_USER}"

USER ${RUN_UID}:${RUN_GID}

LABEL io.buildpacks.base.id="${STACK_ID}" \
      io.buildpacks.stack.id="${STACK_ID}" \
      io.buildpacks.base.distro.name="${DISTRO_NAME}" \
      io.buildpacks.base.distro.version="${DISTRO_VERSION}" \
      io.buildpacks.base.description="${DESCRIPTION} (run image)" \
      io.buildpacks.base.homepage="${HOMEPAGE}" \
      io.buildpacks.base.maintainer="${MAINTAINER}" \
      io.buildpacks.base.released="${RELEASED}" \
      io.buildpacks.rebasable="true" \
      org.toolforge.stack.inputs="${INPUTS_DIGEST}"
