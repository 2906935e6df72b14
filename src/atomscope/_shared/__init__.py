"""Infrastructure shared by all stages: input validation and seeding."""
