"""Every error survives the trip through Celery's JSON result backend as its own type and message."""

import pytest
from celery import Celery

import slmq.errors
from slmq.errors import OutputValidationError, SlmqError

ERRORS = [getattr(slmq.errors, name) for name in slmq.errors.__all__]


def test_every_error_derives_from_the_root_and_ends_in_error() -> None:
    for error in ERRORS:
        assert issubclass(error, SlmqError)
        assert error.__name__.endswith("Error")
        assert error.__doc__ and error.__doc__.startswith(("Raised when", "Root of"))


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_an_error_round_trips_through_the_json_backend(error: type[SlmqError]) -> None:
    backend = Celery(set_as_current=False, backend="cache+memory://", result_serializer="json").backend
    stored = backend.prepare_exception(error("Something was wrong; here is how to fix it."), serializer="json")
    rebuilt = backend.exception_to_python(stored)
    assert type(rebuilt) is error
    assert str(rebuilt) == "Something was wrong; here is how to fix it."


def test_the_raw_output_survives_with_the_message() -> None:
    backend = Celery(set_as_current=False, backend="cache+memory://").backend
    original = OutputValidationError("Not a valid delivery_note result: no JSON object.", raw_output="{ broken")
    rebuilt = backend.exception_to_python(backend.prepare_exception(original, serializer="json"))
    assert isinstance(rebuilt, OutputValidationError)
    assert rebuilt.raw_output == "{ broken"
    assert str(rebuilt) == "Not a valid delivery_note result: no JSON object."


def test_the_validation_errors_survive_with_the_raw_output_and_stay_out_of_the_repr() -> None:
    # Given an error after re-asks, with the model's last output and what was wrong with it
    backend = Celery(set_as_current=False, backend="cache+memory://").backend
    errors = ["address: Field required", "cut off at 96 tokens"]
    original = OutputValidationError("Not a valid delivery_note result.", '{"consignee": "Jane Doe", "addr', errors)
    # When it goes through the JSON result backend
    rebuilt = backend.exception_to_python(backend.prepare_exception(original, serializer="json"))
    # Then the errors and the raw output come back, and neither shows in repr or str
    assert isinstance(rebuilt, OutputValidationError)
    assert rebuilt.errors == errors and rebuilt.raw_output == original.raw_output
    assert "Jane Doe" not in repr(rebuilt) and "Jane Doe" not in str(rebuilt)


def test_the_raw_output_stays_out_of_the_repr_that_events_and_logs_show() -> None:
    error = OutputValidationError("Not a valid delivery_note result.", raw_output="Deliver to Jane Doe, 1 Secret St")
    assert "Jane Doe" not in repr(error)
    assert "Jane Doe" not in str(error)
