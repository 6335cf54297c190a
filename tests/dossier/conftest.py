"""The archive's tests reuse the check-up kit (a questionnaire and a policy) and the evaluation setup."""

from tests.checkups.conftest import kit  # noqa: F401
from tests.evaluation.conftest import setup  # noqa: F401
