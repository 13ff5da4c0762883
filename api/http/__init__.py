"""The HTTP side: the app factory, resources, schemas, policies, limits, problem details."""
