"""What the services talk to: the database (engines, models, migrations), the job queue,
password hashing."""
