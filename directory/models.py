"""Directory models (profiles, posts) come with the directory work; public schema."""
