"""The notifications tests speak of cases, the first app that sends messages: they borrow its
fixtures (cases built through the workflow)."""

from tests.cases.conftest import make_case, now  # noqa: F401 - fixtures
