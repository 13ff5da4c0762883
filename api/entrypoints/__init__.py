"""What starts the service: the `peermatch` command, WSGI, the RQ worker and scheduler."""
