import pytest

from foleyflow.plugin import errors
from foleyflow.runtime.errors import FoleyFlowError


@pytest.mark.parametrize("cls", [errors.TimelineError, errors.MediaError, errors.MediaMissingError, errors.OutputError,
                                 errors.SelectionError, errors.NothingToDoError, errors.SomeClipsFailedError])
def test_one_root_and_the_path_leads_the_message(cls):
    err = cls("is broken", "/some/cut.xml")
    assert isinstance(err, FoleyFlowError)
    assert str(err) == "/some/cut.xml: is broken" and err.message == "is broken"


def test_exit_codes_are_distinct():
    codes = {errors.TimelineError("x").exit_code, errors.NothingToDoError("x").exit_code,
             errors.SomeClipsFailedError("x").exit_code}
    assert codes == {errors.EXIT_BAD_INPUT, errors.EXIT_NOTHING_TO_DO, errors.EXIT_SOME_FAILED}
    assert errors.EXIT_OK == 0


def test_missing_media_keeps_what_was_looked_for():
    err = errors.MediaMissingError("no media", "/a.mov", looked_for=("/a.mov", "/root/a.mov"))
    assert isinstance(err, errors.MediaError) and err.looked_for == ("/a.mov", "/root/a.mov")
