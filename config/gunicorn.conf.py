"""gunicorn's settings: `gunicorn -c config/gunicorn.conf.py config.wsgi` (production, and the
browser tests' server). Its access log is written by gunicorn, outside Django's logging, so
the secret tokens in some paths (invitations, calendar feeds, one-click unsubscribe) are
redacted here too."""

from gunicorn.glogging import Logger

from config.logging import redact_paths


class RedactingLogger(Logger):
    """The access log without tokens in the request line, the path or the referrer."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_paths(atoms[key])
        return atoms


logger_class = RedactingLogger
