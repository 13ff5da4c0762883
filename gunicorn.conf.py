"""gunicorn's settings file (read from the working directory): the access log writes the
path without the query string, where the links of messages carry their tokens."""

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
