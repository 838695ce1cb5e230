# SPDX-License-Identifier: GPL-2.0
"""crak's VM lab: qemu guests running Debian kernels over the host's root."""

import os

# The checkout this lab belongs to.
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# Where builds land: modules per kernel, tools, initramfs images, logs.
BUILD = os.environ.get("CRAK_BUILD") or os.path.join(SRC, "build")
