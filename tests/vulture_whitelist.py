"""Names used where vulture cannot see, for the dead-code check (tests/test_lint.py), each with
the reason: frameworks (the standard library's HTTP server, AWS Lambda's context interface,
signal handlers' signature, requests' internals) and module hooks. Not a test module."""
# ruff: noqa
import kadr_cli
from chalicelib.realtime import topics
from infra import emulators, gateway_errors
from kadr_cli.parts import PartDone
from kadr_cli.state import UploadState

emulators.ApiServer.NoDelayHandler.disable_nagle_algorithm  # socketserver reads it
_.RequestHandlerClass  # socketserver
_.daemon_threads  # socketserver
_.function_version, _.invoked_function_arn, _.memory_limit_in_mb, _.aws_request_id  # Lambda context
_.log_group_name, _.log_stream_name, _.get_remaining_time_in_millis  # Lambda context
signum, frame  # signal handler signature
_._content  # requests.Response internals, set by tests that fake responses
kadr_cli.__getattr__  # PEP 562 module hook: `from kadr_cli import Uploader` loads it lazily
PartDone.parts_total  # public: on_part_done callbacks read it
UploadState.version  # written by asdict() into every state file, checked by StateStore.load
UploadState.upload_id  # kept in the state file (asdict) for a person looking at a stuck upload
_.font, _.alignment, _.freeze_panes  # openpyxl cell and sheet styles, read when a workbook is saved
# The analyzer's Hit is read by the rating (section 2).
_.scene_index
gateway_errors.JsonErrors.do_GET  # http.server dispatches do_<METHOD>; the others are the same function
_.do_PUT, _.do_POST, _.do_HEAD, _.do_DELETE, _.do_PATCH, _.do_OPTIONS
_._send_error_response  # chalice.local's handler calls it
explain  # http.server's send_error signature
_.all_items  # moto's Table.query calls it on the partition view the patch hands it
_.visible, _.delayed  # moto's SQS reads these properties of its Message
# Finding fields the report and the comments read (and Finding.to_dict writes by its __slots__).
_.category_name, _.scene_label
_.on_analysis  # the analysis queue's handler (chalicelib/routes/review.py), called by Lambda
topics.may_watch_file  # named by string in topics.AUTHORIZERS ("module:function"), loaded on first use
