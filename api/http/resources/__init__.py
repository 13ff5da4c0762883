"""HTTP resources (flask-smorest blueprints). Views are thin: schema in, one service call."""
