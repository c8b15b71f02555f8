# The Toolforge build image: the run image plus compilers, headers, git and pkg-config.
# Built by `packaging stack` FROM the run image it has just built.
ARG RUN_IMAGE
FROM ${RUN_IMAGE}

ARG STACK_ID
ARG DISTRO_NAME
ARG DISTRO_VERSION
ARG DESCRIPTION
ARG HOMEPAGE
ARG MAINTAINER
ARG RELEASED
ARG INPUTS_DIGEST
ARG BUILD_USER
ARG BUILD_UID
ARG BUILD_GID

USER root
COPY packages/build.txt /usr/local/lib/toolforge-stack/
# The run image's package list, kept before the build packages are added: buildpacks that
# install Debian packages resolve against it, so what the run image lacks gets installed.
RUN mkdir -p /usr/local/lib/toolforge-stack/run-image \
 && cp /var/lib/dpkg/status /usr/local/lib/toolforge-stack/run-image/dpkg-status \
 && /usr/local/lib/toolforge-stack/install-packages /usr/local/lib/toolforge-stack/build.txt \
 && echo "${INPUTS_DIGEST}" > /usr/local/lib/toolforge-stack/stack-digest \
 && useradd --uid "${BUILD_UID}" --gid "${BUILD_GID}" --home-dir /home/${BUILD_USER} --create-home --shell /bin/bash "${BUILD_USER}"

ENV CNB_USER_ID=${BUILD_UID} \
    CNB_GROUP_ID=${BUILD_GID}
USER ${BUILD_UID}:${BUILD_GID}

LABEL io.buildpacks.base.id="${STACK_ID}" \
      io.buildpacks.stack.id="${STACK_ID}" \
      io.buildpacks.base.distro.name="${DISTRO_NAME}" \
      io.buildpacks.base.distro.version="${DISTRO_VERSION}" \
      io.buildpacks.base.description="${DESCRIPTION} (build image)" \
      io.buildpacks.base.homepage="${HOMEPAGE}" \
      io.buildpacks.base.maintainer="${MAINTAINER}" \
      io.buildpacks.base.released="${RELEASED}" \
      org.toolforge.stack.inputs="${INPUTS_DIGEST}"
