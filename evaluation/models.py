"""Evaluation models (surveys, anonymous responses) come later; each group's schema."""
