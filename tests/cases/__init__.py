# SPDX-License-Identifier: MIT
"""QEMU test cases, one module per subsystem; each registers with @case."""
