"""Every write inside a group's schema, one module per feature (as Zulip's zerver/actions/).

Import from the feature's module: `from groups.services.meetings import meeting_schedule`.
"""
