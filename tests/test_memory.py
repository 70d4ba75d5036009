"""runtime/memory.py: the heap-arena bound that `facecraft serve` and `facecraft worker` apply at start."""

from __future__ import annotations

import platform

import pytest

from facecraft.runtime.memory import DEFAULT_ARENAS, limit_malloc_arenas

GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="needs glibc (the images and CI run on Debian)")
def test_without_a_setting_the_bound_is_applied_here_and_passed_to_child_processes() -> None:
    environ: dict[str, str] = {}
    assert limit_malloc_arenas(environ) == DEFAULT_ARENAS
    assert environ == {"MALLOC_ARENA_MAX": str(DEFAULT_ARENAS)}


@pytest.mark.parametrize(("given", "expected"), [("4", 4), ("1", 1), ("lots", None)])
def test_a_bound_the_user_set_is_left_alone(given: str, expected: int | None) -> None:
    environ = {"MALLOC_ARENA_MAX": given}
    assert limit_malloc_arenas(environ) == expected
    assert environ == {"MALLOC_ARENA_MAX": given}
