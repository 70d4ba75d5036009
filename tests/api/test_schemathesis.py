"""Property-based requests generated from /openapi.json against the live server: never a 5xx.

Schemathesis' pytest plugin does not support this pytest version, so its Python API drives
Hypothesis directly, a few examples per operation, bounded in time.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from tests.api.conftest import LiveServer


def test_no_server_errors(server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    failures: list[str] = []
    calls: list[int] = []
    for operation in operations:
        # The upload endpoints take the most hostile input; generated files never decode, so extra
        # examples there cost milliseconds each.
        examples = 25 if operation.method.upper() == "POST" and "/process" in operation.path else 6

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=server.url, timeout=60)
            calls.append(response.status_code)
            if (response.status_code >= 500 and response.status_code != 503) or "Traceback" in response.text:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

        check()
    assert len(calls) >= 3 * len(operations)
    if failures:
        pytest.fail("\n".join(failures))
