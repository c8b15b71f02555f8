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
# And the run image's size in bytes, measured first, for toolforge/toolforge's image size report:
# regular files' and symlinks' apparent sizes, a hard-linked file once. -xdev keeps find on the
# image's own filesystem (not /proc, /sys, /dev, which are pruned as well); build.txt, copied
# above, is the build image's, and the files this RUN writes come after the measurement.
RUN size=$(find / -xdev \( -path /proc -o -path /sys -o -path /dev \
            -o -path /usr/local/lib/toolforge-stack/build.txt \) -prune \
            -o ! -type d -printf '%n %i %s\n' \
          | awk '$1 == 1 || !seen[$2]++ { total += $3 } END { printf "%.0f\n", total }') \
 && mkdir -p /usr/local/lib/toolforge-stack/run-image \
 && echo "${size}" > /usr/local/lib/toolforge-stack/run-image/size \
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
