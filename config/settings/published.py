"""Secrets published in this repository, for development (local.py) and the tests (test.py).

Not a settings module. Anyone can read these values, so production.py refuses every one of them.
"""

DEVELOPMENT_SECRET_KEY = "insecure-development-key-not-for-production"
DEVELOPMENT_HORIZONTAL_KEY = "ZGV2ZWxvcG1lbnQtb25seS1rZXktbm90LXNlY3JldCE="
TEST_SECRET_KEY = "insecure-test-key"
TEST_HORIZONTAL_KEY = "dGVzdC1vbmx5LWtleS1lbmNyeXB0cy10ZXN0LWRhdGE="

SECRET_KEYS = {DEVELOPMENT_SECRET_KEY: "local.py", TEST_SECRET_KEY: "test.py"}
HORIZONTAL_KEYS = {DEVELOPMENT_HORIZONTAL_KEY: "local.py", TEST_HORIZONTAL_KEY: "test.py"}
