"""Names used by frameworks rather than by our code, for the dead-code check (vulture).

Each line names an attribute that something outside the project reads: the standard library's
HTTP server, AWS Lambda's context interface, signal handlers' signature, requests' internals.
"""
# ruff: noqa
from infra import emulators

emulators.ApiServer.NoDelayHandler.disable_nagle_algorithm  # socketserver reads it
_.RequestHandlerClass  # socketserver
_.daemon_threads  # socketserver
_.function_version, _.invoked_function_arn, _.memory_limit_in_mb, _.aws_request_id  # Lambda context
_.log_group_name, _.log_stream_name, _.get_remaining_time_in_millis  # Lambda context
signum, frame  # signal handler signature
_._content  # requests.Response internals, set by tests that fake responses
_.font, _.alignment, _.freeze_panes  # openpyxl cell and sheet styles, read when a workbook is saved
