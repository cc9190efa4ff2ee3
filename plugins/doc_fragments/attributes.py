# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """What the module attributes mean; each module says how far it supports them."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying the target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
"""

    # The modules that only read and check: the same support, said once.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: The module never changes anything.
  diff_mode:
    support: none
"""
