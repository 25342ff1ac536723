"""Work that crosses schemas: the only code (besides the tenant middleware and the Celery app)
that enters a group's schema from outside it.

It sits on top of the apps (society < directory < groups | evaluation < crossschema): it may
import every app, and no app imports it. Lower layers ask it for work through the database
(a group left `queued`, a group concluded long enough ago) and, for speed, a Celery message by
name; its periodic sweeps find the same work from the database, so a lost message delays
that work but loses none.

- `fanout`: run something in every ready group's schema, one failure never stopping the rest.
- `provisioning`: make a group's space from the template and seed it (mission, founders'
  invitations); the sweep that picks up approved groups still `queued`.
- `shredding`: destroy the confidential space of groups concluded past the export window.
- `demo`: the demo society for `make run`.
"""
